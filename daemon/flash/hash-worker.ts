import { Worker } from 'node:worker_threads';
import { sharedAlignedBuffers } from './aligned.js';

/**
 * Edge module: read-back hashing on a worker thread. Reading a drive back
 * costs little CPU; hashing it is what a verify spends its time on. On the
 * event loop, the read-backs of several drives queue for one core (4 drives
 * verified in 4x the time of one); each on its own thread, they spread over
 * every core. The bytes are read straight into page-aligned shared memory
 * (O_DIRECT needs the alignment) that the worker hashes in place: no copy.
 */
export interface SharedHasher {
  /** Aligned buffers in memory the worker sees; read into them, then hand them over with `update`. */
  readonly buffers: readonly Buffer[];
  /**
   * Hashes bytes [from, to) of buffers[index] into the running digest.
   * Resolves when the worker is done with the buffer: with the hex digest
   * when `final` (the next update starts a new digest), null otherwise.
   */
  update(index: number, from: number, to: number, algorithm: 'sha256' | 'sha1', final: boolean): Promise<string | null>;
  /** Stops the worker (after an error or an abort; also fine after the last digest). */
  close(): Promise<void>;
}

// Plain JavaScript, run with eval: the same code works from the TypeScript sources (tsx) and from dist/.
const source = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const views = workerData.offsets.map((o) => Buffer.from(workerData.memory, o, workerData.size));
let hash = null;
parentPort.on('message', (m) => {
  hash ??= createHash(m.algorithm);
  hash.update(views[m.index].subarray(m.from, m.to));
  let digest = null;
  if (m.final) {
    digest = hash.digest('hex');
    hash = null;
  }
  parentPort.postMessage(digest);
});
`;

/** Starts a hashing worker with `count` shared aligned buffers of `size` bytes (a multiple of 4096). */
export function sharedHasher(count: number, size: number): SharedHasher {
  const { memory, buffers } = sharedAlignedBuffers(count, size);
  const worker = new Worker(source, { eval: true, workerData: { memory, size, offsets: buffers.map((b) => b.byteOffset) } });
  // Updates are answered in order: one queue of waiters, and the worker's failure fails them all.
  const waiting: { resolve: (d: string | null) => void; reject: (e: Error) => void }[] = [];
  let failure: Error | null = null;
  const fail = (err: Error) => {
    failure ??= err;
    for (const w of waiting.splice(0)) w.reject(failure);
  };
  worker.on('message', (digest: string | null) => waiting.shift()?.resolve(digest));
  worker.on('error', fail);
  worker.on('exit', (code) => fail(new Error(`the read-back hashing thread stopped (exit code ${code})`)));
  return {
    buffers,
    update(index, from, to, algorithm, final) {
      if (failure) return Promise.reject(failure);
      return new Promise((resolve, reject) => {
        waiting.push({ resolve, reject });
        worker.postMessage({ index, from, to, algorithm, final });
      });
    },
    async close() {
      fail(new Error('the read-back hashing thread was closed'));
      await worker.terminate();
    },
  };
}
