// Edge module: decompressing gzip in-process (zlib) and xz/zstd through their
// command-line tools, which are faster than any JavaScript port and stream.
import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { Compression } from './compression.js';
import { flashError } from './errors.js';
import type { Exec } from './exec.js';

/** A running decompression: its output stream, how much of the file it has consumed, and how it ended. */
export interface Decoder {
  output: AsyncIterable<Buffer>;
  /** Compressed bytes read from the file so far. */
  consumed(): number;
  /** Resolves when the decoder finished cleanly; rejects with 'truncated-image' or 'corrupt-image' otherwise. */
  finished(): Promise<void>;
  /** Stops the decoder early (the rest of the image is not needed, or the flash was aborted). */
  cancel(): void;
}

const tools: Record<'xz' | 'zstd', { program: string; args: string[]; truncated: RegExp; package: string }> = {
  xz: { program: 'xz', args: ['-dc', '-T0'], truncated: /unexpected end of input/i, package: 'xz-utils' },
  zstd: { program: 'zstd', args: ['-dc', '-q'], truncated: /premature end|truncated|unexpected end/i, package: 'zstd' },
};

function decodeError(path: string, compression: Compression, detail: string, truncated: boolean): Error {
  if (truncated) {
    return flashError('truncated-image', `cannot flash ${path}: the ${compression} data ends too early (${detail}); the file is incomplete, download or copy it again`, { image: path });
  }
  return flashError('corrupt-image', `cannot flash ${path}: the ${compression} data is damaged (${detail}); download or copy the image again`, { image: path });
}

function gunzipDecoder(readPath: string, path: string): Decoder {
  const file = createReadStream(readPath, { highWaterMark: 1 << 20 });
  const gunzip = createGunzip({ chunkSize: 1 << 20 });
  let failure: Error | null = null;
  file.on('error', (err) => gunzip.destroy(err));
  gunzip.on('error', (err: NodeJS.ErrnoException) => {
    failure ??= err.code === 'Z_BUF_ERROR' || /unexpected end/i.test(err.message)
      ? decodeError(path, 'gzip', err.message, true)
      : decodeError(path, 'gzip', err.message, false);
  });
  file.pipe(gunzip);
  const output = (async function* () {
    try {
      for await (const buf of gunzip as AsyncIterable<Buffer>) yield buf;
    } catch (err) {
      throw failure ?? err;
    }
  })();
  return {
    output,
    consumed: () => file.bytesRead,
    finished: async () => {
      if (failure) throw failure;
    },
    cancel: () => {
      file.destroy();
      gunzip.destroy();
    },
  };
}

function toolDecoder(readPath: string, path: string, compression: 'xz' | 'zstd'): Decoder {
  const tool = tools[compression];
  const file = createReadStream(readPath, { highWaterMark: 1 << 20 });
  const child = spawn(tool.program, tool.args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
  let stderr = '';
  let spawnError: Error | null = null;
  let cancelled = false;
  child.stderr.setEncoding('utf8').on('data', (s: string) => {
    if (stderr.length < 4096) stderr += s;
  });
  child.stdin.on('error', () => {}); // EPIPE when the tool exits or is cancelled first; its exit status tells why
  file.on('error', (err) => {
    spawnError ??= err;
    child.kill('SIGTERM');
  });
  file.pipe(child.stdin);
  const exited = new Promise<number | null>((resolve) => {
    child.on('error', (err: NodeJS.ErrnoException) => {
      spawnError ??= err.code === 'ENOENT'
        ? flashError('tool-missing', `cannot flash ${path}: the ${tool.program} program is not installed; install the ${tool.package} package`, { image: path, tool: tool.program })
        : err;
      resolve(null);
    });
    child.on('close', (code) => resolve(code));
  });
  const finished = async () => {
    const code = await exited;
    if (spawnError) throw spawnError;
    if (code !== 0 && !cancelled) {
      const detail = stderr.trim().split('\n').filter(Boolean).pop() ?? `${tool.program} exited with status ${code}`;
      throw decodeError(path, compression, detail.replace(/^\S+:\s*/, ''), tool.truncated.test(stderr));
    }
  };
  const output = (async function* () {
    for await (const buf of child.stdout as Readable) yield buf as Buffer;
    if (spawnError) throw spawnError;
  })();
  return {
    output,
    consumed: () => file.bytesRead,
    finished,
    cancel: () => {
      cancelled = true;
      file.destroy();
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      child.stdout.destroy();
    },
  };
}

/** Starts decompressing a gzip, xz or zstd image file read from `readPath`; messages name `path`. */
export function openDecoder(readPath: string, compression: Exclude<Compression, 'none'>, path = readPath): Decoder {
  return compression === 'gzip' ? gunzipDecoder(readPath, path) : toolDecoder(readPath, path, compression);
}

/**
 * The decompressed size recorded in an xz index or a zstd frame header, without
 * decompressing; null when the file does not record it (gzip, streamed zstd) or
 * its index cannot be read (a truncated xz): the caller then measures.
 */
export async function recordedSize(path: string, compression: Exclude<Compression, 'none'>, exec: Exec): Promise<number | null> {
  try {
    if (compression === 'xz') {
      const r = await exec('xz', ['--robot', '--list', path]);
      const totals = r.code === 0 ? /^totals\t\d+\t\d+\t\d+\t(\d+)\t/m.exec(r.stdout) : null;
      return totals ? Number(totals[1]) : null;
    }
    if (compression === 'zstd') {
      // -f: the image is read through /proc/PID/fd/N, a symlink zstd otherwise skips
      const r = await exec('zstd', ['-lv', '-f', path]);
      const frames = /# Zstandard Frames: (\d+)/.exec(r.stdout);
      const size = /Decompressed Size: .*\((\d+) B\)/.exec(r.stdout);
      return r.code === 0 && frames && Number(frames[1]) > 0 && size ? Number(size[1]) : null;
    }
  } catch {
    return null; // the tool is missing: openDecoder reports that with the fix
  }
  return null;
}
