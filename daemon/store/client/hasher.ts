// SHA3-384 off the main thread: OpenSSL's SHA3 runs at roughly the speed of a
// loopback download, so hashing in a worker overlaps the two instead of adding
// them. Small chunks are copied into transferred buffers (update); whole
// buffers the caller is done with are transferred without a copy (give); at
// most `maxInFlight` bytes wait for the worker (the caller awaits `room()` to
// pause the source).
import { createHash } from 'node:crypto';
import { Worker } from 'node:worker_threads';

/** An incremental digest that may run elsewhere. */
export interface Hasher {
  update(chunk: Buffer): void;
  /**
   * Like update, for a buffer the caller hands over and never touches again
   * (a worker hasher transfers its memory instead of copying it). The buffer
   * must own its whole ArrayBuffer (Buffer.allocUnsafeSlow), possibly viewed shorter.
   */
  give(buf: Buffer): void;
  /** A buffer given earlier that the hasher is done with (full length), for the caller to reuse; undefined when none. */
  spare(): Buffer | undefined;
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
const h = createHash('sha3-384');
parentPort.on('message', (m) => {
  if (m === 'digest') { parentPort.postMessage({ digest: h.digest('base64url') }); return; }
  if (m instanceof ArrayBuffer) {
    h.update(new Uint8Array(m));
    parentPort.postMessage({ done: m.byteLength });
    return;
  }
  h.update(new Uint8Array(m.buf, 0, m.len));
  // the memory goes back for reuse: fresh buffers cost page faults
  parentPort.postMessage({ done: m.len, buf: m.buf }, [m.buf]);
});
`;

/** SHA3-384 in the calling thread (small files). */
export function inlineHasher(): Hasher {
  const h = createHash('sha3-384');
  const spares: Buffer[] = [];
  return {
    update: (c) => void h.update(c),
    give: (c) => {
      h.update(c);
      if (spares.length < 4) spares.push(Buffer.from(c.buffer, 0, c.buffer.byteLength));
    },
    spare: () => spares.pop(),
    full: () => false, room: async () => {}, digest: async () => h.digest('base64url'), dispose: () => {} };
}

/** SHA3-384 in a worker thread (large files); chunks are batched into `batch`-byte messages. */
export function workerHasher(maxInFlight = 64 << 20, batch = 1 << 20): Hasher {
  const worker = new Worker(workerSource, { eval: true });
  let inFlight = 0;
  let waiters: (() => void)[] = [];
  let onDigest: ((d: string) => void) | undefined;
  let failed: Error | undefined;
  let onFail: ((e: Error) => void) | undefined;
  const spares: Buffer[] = [];
  worker.on('message', (m: { done?: number; digest?: string; buf?: ArrayBuffer }) => {
    if (m.buf !== undefined && spares.length < 16) spares.push(Buffer.from(m.buf));
    if (m.done !== undefined) {
      inFlight -= m.done;
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
    pending = new Uint8Array(new ArrayBuffer(batch));
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
    give(buf) {
      if (buf.byteOffset !== 0 || buf.buffer.byteLength < buf.length) {
        this.update(buf);
        return;
      }
      flush();
      inFlight += buf.length;
      const ab = buf.buffer as ArrayBuffer;
      worker.postMessage({ buf: ab, len: buf.length }, [ab]);
    },
    spare: () => spares.pop(),
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
