import { Worker } from 'node:worker_threads';
import type { ByteRange } from '../flash/ranges.js';

/**
 * Edge module: file digests computed on a worker thread, so hashing hundreds
 * of MiB (a snap's SHA3-384, a sparse image's SHA-256) neither blocks the
 * daemon's event loop nor waits for other work of the build, and a bmap's
 * ranges can be hashed on every core. Buffers are bounded (256 KiB), whatever
 * the file size.
 */

export interface DigestJob {
  path: string;
  algorithm: 'sha256' | 'sha3-384';
  /**
   * Only these byte ranges (sorted, not overlapping) hold data: the rest of
   * the file up to `size` is hashed as zeros from memory, never read.
   * Undefined: read the whole file.
   */
  data?: readonly ByteRange[];
  size?: number;
  /** Work nobody waits for: run the thread at the lowest CPU priority, so builds go first. */
  background?: boolean;
}

export interface DigestResult {
  digest: Buffer;
  size: number;
}

/** One digest per byte range of a file (a bmap's ranges), computed on a worker thread. */
export interface RangeDigestJob {
  path: string;
  algorithm: 'sha256';
  ranges: readonly ByteRange[];
}

// Plain JavaScript, run with eval: the same code works from the TypeScript sources (tsx) and from dist/.
const source = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { openSync, readSync, closeSync, fstatSync } = require('node:fs');
// Small enough to stay in a core's L2 cache between the read that fills it and the hash that reads it:
// with 4 MiB chunks every byte went through memory twice, and reading 300 MiB from the page cache took
// 140 ms instead of 35 (read and SHA-256: 360 ms instead of 250, on the 2-core development machine).
const chunk = 256 * 1024;
const job = workerData;
if (job.background) {
  // Lowest CPU priority for this thread only (Linux: a thread id is a pid for setpriority).
  try {
    const tid = Number(require('node:fs').readlinkSync('/proc/thread-self').split('/').pop());
    require('node:os').setPriority(tid, 19);
  } catch {}
}
let h = createHash(job.algorithm);
const fd = openSync(job.path, 'r');
let size = 0;
const perRange = [];
try {
  const buf = Buffer.allocUnsafe(chunk);
  const readRange = (start, end) => {
    for (let at = start; at < end; ) {
      const n = readSync(fd, buf, 0, Math.min(chunk, end - at), at);
      if (n === 0) throw new Error('file ' + job.path + ' is shorter than expected at byte ' + at);
      h.update(buf.subarray(0, n));
      at += n;
    }
  };
  if (job.ranges !== undefined) {
    for (const r of job.ranges) {
      h = createHash(job.algorithm);
      readRange(r.start, r.end);
      perRange.push(h.digest());
    }
  } else if (job.data === undefined) {
    for (;;) {
      const n = readSync(fd, buf, 0, chunk, size);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
      size += n;
    }
  } else {
    size = job.size === undefined ? fstatSync(fd).size : job.size;
    const zeros = Buffer.alloc(chunk);
    const feedZeros = (n) => {
      for (; n > 0; n -= chunk) h.update(n >= chunk ? zeros : zeros.subarray(0, n));
    };
    let pos = 0;
    for (const r of job.data) {
      feedZeros(r.start - pos);
      readRange(r.start, r.end);
      pos = r.end;
    }
    feedZeros(size - pos);
  }
} finally {
  closeSync(fd);
}
parentPort.postMessage(job.ranges !== undefined ? { perRange } : { digest: h.digest(), size });
`;

/** Computes a file's digest on a worker thread; rejects with the worker's error (ENOENT, EIO...). */
export async function digestInWorker(job: DigestJob, signal?: AbortSignal): Promise<DigestResult> {
  const m = await runWorker<{ digest: Uint8Array; size: number }>({ ...job, data: job.data?.map((r) => ({ start: r.start, end: r.end })) }, signal);
  return { digest: Buffer.from(m.digest), size: m.size };
}

/** Computes the digest of each range of a file on a worker thread, in the ranges' order. */
export async function rangeDigestsInWorker(job: RangeDigestJob, signal?: AbortSignal): Promise<Buffer[]> {
  const m = await runWorker<{ perRange: Uint8Array[] }>({ ...job, ranges: job.ranges.map((r) => ({ start: r.start, end: r.end })) }, signal);
  return m.perRange.map((d) => Buffer.from(d));
}

function runWorker<T>(workerData: unknown, signal?: AbortSignal): Promise<T> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(source, { eval: true, workerData });
    let settled = false;
    const onAbort = () => void worker.terminate();
    signal?.addEventListener('abort', onAbort, { once: true });
    const done = (fn: () => void) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      fn();
    };
    worker.once('message', (m: T) => done(() => resolve(m)));
    worker.once('error', (err) => done(() => reject(err)));
    worker.once('exit', (code) => done(() => reject(signal?.aborted ? new Error('the digest was stopped') : new Error(`digest worker exited with code ${code}`))));
  });
}
