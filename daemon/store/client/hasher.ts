// A snap's digest (daemon/snap/digest.ts: SHA3-384, base64url) as a download arrives, off the main thread: OpenSSL's SHA3 runs at roughly the speed of a
// loopback download, so hashing in a worker overlaps the two instead of adding
// them. Chunks are copied into buffers transferred there and back; at most `maxInFlight` bytes
// wait for the worker (the caller awaits `room()` to pause the source).
import { createHash } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { snapDigestAlgorithm, snapDigestEncoding } from '../../snap/digest.js';

/** An incremental digest that may run elsewhere. */
export interface Hasher {
  update(chunk: Buffer): void;
  /** true when the caller should wait for room() before the next update */
  full(): boolean;
  /** resolves when the hasher can take more without exceeding its buffer */
  room(): Promise<void>;
  /** the digest, base64url (snapd's form); the hasher is finished after this */
  digest(): Promise<string>;
  /** stops the hasher without a digest */
  dispose(): void;
}

const workerSource = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const h = createHash('${snapDigestAlgorithm}');
parentPort.on('message', (m) => {
  if (m === 'digest') { parentPort.postMessage({ digest: h.digest('${snapDigestEncoding}') }); return; }
  h.update(new Uint8Array(m));
  parentPort.postMessage({ done: m.byteLength, buffer: m }, [m]);
});
`;

/** SHA3-384 in the calling thread (small files). */
export function inlineHasher(): Hasher {
  const h = createHash(snapDigestAlgorithm);
  return { update: (c) => void h.update(c), full: () => false, room: async () => {}, digest: async () => h.digest(snapDigestEncoding), dispose: () => {} };
}

/** SHA3-384 in a worker thread (large files); chunks are batched into `batch`-byte messages. */
export function workerHasher(maxInFlight = 64 << 20, batch = 1 << 20): Hasher {
  const worker = new Worker(workerSource, { eval: true });
  let inFlight = 0;
  let waiters: (() => void)[] = [];
  let onDigest: ((d: string) => void) | undefined;
  let failed: Error | undefined;
  let onFail: ((e: Error) => void) | undefined;
  /** batch buffers the worker has hashed and handed back, to fill again (a fresh 1 MiB buffer per batch kept the garbage collector busy) */
  const free: ArrayBuffer[] = [];
  worker.on('message', (m: { done?: number; buffer?: ArrayBuffer; digest?: string }) => {
    if (m.done !== undefined) {
      inFlight -= m.done;
      if (m.buffer?.byteLength === batch) free.push(m.buffer);
      if (inFlight <= maxInFlight / 2) {
        const w = waiters;
        waiters = [];
        for (const f of w) f();
      }
    } else if (m.digest !== undefined) onDigest?.(m.digest);
  });
  worker.on('error', (e) => {
    failed = e;
    onFail?.(e);
    for (const f of waiters) f();
  });
  let pending = new Uint8Array(new ArrayBuffer(batch));
  let used = 0;
  const flush = () => {
    if (used === 0) return;
    const buf = used === batch ? pending.buffer : pending.buffer.slice(0, used);
    inFlight += used;
    worker.postMessage(buf, [buf]);
    pending = new Uint8Array(free.pop() ?? new ArrayBuffer(batch));
    used = 0;
  };
  return {
    update(chunk) {
      for (let off = 0; off < chunk.length; ) {
        const n = Math.min(batch - used, chunk.length - off);
        pending.set(chunk.subarray(off, off + n), used);
        used += n;
        off += n;
        if (used === batch) flush();
      }
    },
    full: () => inFlight > maxInFlight && !failed,
    room: () => (inFlight <= maxInFlight || failed ? Promise.resolve() : new Promise<void>((r) => waiters.push(r))),
    digest: () =>
      new Promise<string>((resolve, reject) => {
        flush();
        if (failed) return reject(failed);
        onFail = reject;
        onDigest = (d) => {
          resolve(d);
          void worker.terminate();
        };
        worker.postMessage('digest');
      }),
    dispose: () => void worker.terminate(),
  };
}
