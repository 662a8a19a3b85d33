import { Worker } from 'node:worker_threads';
import type { ByteRange } from './bmap-ranges.js';

/**
 * Edge module: file digests computed on a worker thread, so hashing hundreds
 * of MiB (a snap's SHA3-384, a sparse image's SHA-256) neither blocks the
 * daemon's event loop nor waits for other work of the build: the caller can
 * hash the bmap ranges while the image digest runs beside it. Buffers are
 * bounded (4 MiB), whatever the file size.
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
}

export interface DigestResult {
  digest: Buffer;
  size: number;
}

// Plain JavaScript, run with eval: the same code works from the TypeScript sources (tsx) and from dist/.
const source = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { openSync, readSync, closeSync, fstatSync } = require('node:fs');
const chunk = 4 * 1024 * 1024;
const job = workerData;
const h = createHash(job.algorithm);
const fd = openSync(job.path, 'r');
let size = 0;
try {
  const buf = Buffer.allocUnsafe(chunk);
  const readRange = (offset, length) => {
    for (let at = offset; at < offset + length; ) {
      const n = readSync(fd, buf, 0, Math.min(chunk, offset + length - at), at);
      if (n === 0) throw new Error('file ' + job.path + ' is shorter than expected at byte ' + at);
      h.update(buf.subarray(0, n));
      at += n;
    }
  };
  if (job.data === undefined) {
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
      feedZeros(r.offset - pos);
      readRange(r.offset, r.length);
      pos = r.offset + r.length;
    }
    feedZeros(size - pos);
  }
} finally {
  closeSync(fd);
}
const digest = h.digest();
parentPort.postMessage({ digest, size });
`;

/** Computes a file's digest on a worker thread; rejects with the worker's error (ENOENT, EIO...). */
export function digestInWorker(job: DigestJob, signal?: AbortSignal): Promise<DigestResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(source, { eval: true, workerData: { ...job, data: job.data?.map((r) => ({ offset: r.offset, length: r.length })) } });
    let settled = false;
    const onAbort = () => void worker.terminate();
    signal?.addEventListener('abort', onAbort, { once: true });
    const done = (fn: () => void) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      fn();
    };
    worker.once('message', (m: { digest: Uint8Array; size: number }) => done(() => resolve({ digest: Buffer.from(m.digest), size: m.size })));
    worker.once('error', (err) => done(() => reject(err)));
    worker.once('exit', (code) => done(() => reject(signal?.aborted ? new Error('the digest was stopped') : new Error(`digest worker exited with code ${code}`))));
  });
}
