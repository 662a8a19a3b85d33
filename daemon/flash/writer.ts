import { alignedBuffer, alignedBuffers } from './aligned.js';
import { abortedError } from './errors.js';
import type { FlashProgressCallback } from './progress.js';
import type { Chunk } from './source.js';
import type { FlashTarget } from './target.js';

/** How the writer batches and protects a write. */
export interface WriteOptions {
  /** Size of the image on the drive (the bmap's ImageSize, or the decompressed size). */
  imageSize: number;
  /** Bytes that will be written to each drive (mapped bytes): the progress total. */
  total: number;
  /** Bytes per write; large, aligned writes are what drives are fast at. Default 4 MiB. */
  writeSize?: number;
  /** Write buffers shared by all targets; memory used is writeSize x buffers. Default 4. */
  buffers?: number;
  /** Bytes written to a target between flushes, so cancel and removal are noticed soon. Default 128 MiB. */
  flushInterval?: number;
  /** The start of the drive written last, so an interrupted write leaves no valid partition table. Default 1 MiB. */
  headSize?: number;
  onProgress?: FlashProgressCallback;
}

/** How writing went for one target. */
export interface WriteOutcome {
  path: string;
  /** Bytes of image data written (all of `total` when it succeeded). */
  bytesWritten: number;
  /** Why this target failed; the others went on. */
  error: Error | null;
}

interface TargetState {
  target: FlashTarget;
  error: Error | null;
  written: number;
  sinceFlush: number;
  chain: Promise<void>;
}

const MiB = 1 << 20;

/**
 * Writes one read of the image to several drives at once with bounded memory.
 * The drive's first and last MiB are zeroed first and the image's first MiB is
 * written last, after a flush: a write that fails or is aborted leaves a drive
 * with no partition table, never a half-written one that looks bootable. A
 * failing target is recorded with its byte range and the others go on; the
 * source's own errors (truncated, damaged, wrong bmap) and abort are thrown.
 */
export async function writeImage(
  chunks: AsyncIterable<Chunk>,
  targets: readonly FlashTarget[],
  options: WriteOptions,
  signal?: AbortSignal,
): Promise<WriteOutcome[]> {
  const writeSize = options.writeSize ?? 4 * MiB;
  const flushInterval = options.flushInterval ?? 128 * MiB;
  const headSize = options.headSize ?? MiB;
  const headLength = Math.min(headSize, options.imageSize);
  const head = alignedBuffer(headSize);
  const states: TargetState[] = targets.map((target) => ({
    target,
    error: null,
    written: 0,
    sinceFlush: 0,
    chain: Promise.resolve(),
  }));
  const live = () => states.filter((s) => s.error === null);
  let headBytes = 0;
  const progress = (s: TargetState) => options.onProgress?.(s.target.path, { phase: 'flashing', bytes: s.written + headBytes, total: options.total });

  /** Runs `job` on a target after its previous jobs; a failure marks the target and skips its later jobs. */
  const enqueue = (s: TargetState, job: () => Promise<void>): Promise<void> => {
    s.chain = s.chain.then(async () => {
      if (s.error === null) await job();
    }).catch((err: unknown) => {
      s.error ??= err instanceof Error ? err : new Error(String(err));
    });
    return s.chain;
  };

  // Wipe the partition tables (MBR/GPT at the start, backup GPT at the end) before any data goes in.
  const zeros = head; // still all zeros: image data is copied into it only later
  await Promise.all(states.map((s) => enqueue(s, async () => {
    await s.target.write(zeros.subarray(0, Math.min(headSize, s.target.size)), 0);
    const tailStart = Math.max(headSize, s.target.size - headSize);
    if (tailStart < s.target.size) await s.target.write(zeros.subarray(0, s.target.size - tailStart), tailStart);
    await s.target.flush();
  })));

  const count = options.buffers ?? 4;
  const slots = alignedBuffers(count, writeSize);
  const busy: Promise<unknown>[] = slots.map(() => Promise.resolve());
  let current = 0;
  let fill = 0;
  let blockStart = 0;

  const emit = () => {
    if (fill === 0) return;
    const slot = slots[current]!;
    let offset = blockStart;
    let data = slot.subarray(0, fill);
    if (offset < headSize) {
      const n = Math.min(headSize - offset, data.length);
      data.copy(head, offset, 0, n);
      headBytes += n;
      data = data.subarray(n);
      offset += n;
    }
    if (data.length > 0) {
      busy[current] = Promise.all(live().map((s) => enqueue(s, async () => {
        await s.target.write(data, offset);
        s.written += data.length;
        s.sinceFlush += data.length;
        if (s.sinceFlush >= flushInterval) {
          s.sinceFlush = 0;
          await s.target.flush();
        }
        progress(s);
      })));
    }
    current = (current + 1) % count;
    fill = 0;
  };

  try {
    for await (const chunk of chunks) {
      if (signal?.aborted || live().length === 0) break;
      if (fill > 0 && chunk.offset !== blockStart + fill) emit();
      for (let pos = 0; pos < chunk.data.length; ) {
        if (fill === 0) {
          await busy[current];
          blockStart = chunk.offset + pos;
        }
        const n = Math.min(writeSize - fill, chunk.data.length - pos);
        chunk.data.copy(slots[current]!, fill, pos, pos + n);
        fill += n;
        pos += n;
        if (fill === writeSize) emit();
      }
    }
    if (!signal?.aborted) emit();
  } catch (err) {
    if (signal?.aborted) throw abortedError('the flash');
    throw err;
  } finally {
    await Promise.all(busy);
  }
  if (signal?.aborted) throw abortedError('the flash');

  // Everything else is on the drives: now the start, with the partition table.
  await Promise.all(live().map((s) => enqueue(s, async () => {
    await s.target.flush();
    if (headLength > 0) await s.target.write(head.subarray(0, headLength), 0);
    await s.target.flush();
    progress(s);
  })));
  if (signal?.aborted) throw abortedError('the flash');
  return states.map((s) => ({ path: s.target.path, bytesWritten: s.error ? s.written : s.written + headBytes, error: s.error }));
}
