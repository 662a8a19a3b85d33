import { alignedBuffers, bufferAlignment } from './aligned.js';
import { throwIfAborted } from './errors.js';
import { type SharedHasher, sharedHasher } from './hash-worker.js';
import type { FlashProgressCallback } from './progress.js';
import { type ByteRange, mergeRanges, type RangeDigest, rangesBytes } from './ranges.js';
import type { ImageSource } from './source.js';
import type { FlashTarget } from './target.js';

/** How the verifier reads a drive back. */
export interface VerifyOptions {
  /** Bytes per read; default 4 MiB. */
  readSize?: number;
  onProgress?: FlashProgressCallback;
  /**
   * A hashing thread started earlier, with 2 buffers of at least readSize + 4096
   * bytes (flashImage starts one per drive while it writes, so that thread
   * start-up, slow on a busy machine, is not on the verify's clock). The
   * caller closes it, and does not reuse it after a verify that threw (it would
   * hold part of a digest). Default: one started and closed here.
   */
  hasher?: SharedHasher;
}

/** The hashing thread verifyTarget needs for reads of `readSize` bytes. */
export function verifyHasher(readSize = 4 * MiB): SharedHasher {
  return sharedHasher(2, readSize + bufferAlignment);
}

interface Piece {
  range: number;
  /** Aligned read window on the drive. */
  readStart: number;
  readLength: number;
  /** Part of the window that belongs to the range. */
  from: number;
  to: number;
}

const MiB = 1 << 20;

function alignDown(n: number): number {
  return Math.floor(n / bufferAlignment) * bufferAlignment;
}

/** Aligned read windows of at most `readSize` covering each range (clipped to the drive's end). */
function readPlan(ranges: readonly ByteRange[], readSize: number, driveSize: number): Piece[] {
  const pieces: Piece[] = [];
  ranges.forEach((r, range) => {
    for (let at = r.start; at < r.end; ) {
      const readStart = alignDown(at);
      const to = Math.min(r.end, readStart + readSize);
      const readEnd = Math.min(Math.ceil(to / bufferAlignment) * bufferAlignment, driveSize);
      pieces.push({ range, readStart, readLength: readEnd - readStart, from: at, to });
      at = to;
    }
  });
  return pieces;
}

/**
 * Reads the drive back (O_DIRECT through the target: the drive, not the page
 * cache) and returns the expected ranges whose hash differs, merged. Pieces
 * are read in order into two buffers in turn: the next read runs while the
 * worker thread hashes the last one (see hash-worker.ts for why a thread).
 */
export async function verifyTarget(target: FlashTarget, expected: readonly RangeDigest[], options: VerifyOptions = {}, signal?: AbortSignal): Promise<ByteRange[]> {
  const readSize = options.readSize ?? 4 * MiB;
  const total = rangesBytes(expected);
  const pieces = readPlan(expected, readSize, target.size);
  if (pieces.length === 0) return [];
  const hasher = options.hasher ?? verifyHasher(readSize);
  if (hasher.buffers.length < 2 || hasher.buffers[0]!.length < readSize + bufferAlignment) throw new RangeError(`verify hasher buffers are smaller than the read size ${readSize} + ${bufferAlignment}`);
  const mismatches: ByteRange[] = [];
  let done = 0;
  const read = async (i: number) => {
    const p = pieces[i]!;
    const n = await target.read(hasher.buffers[i % 2]!.subarray(0, p.readLength), p.readStart);
    throwIfAborted(signal, `verifying ${target.path}`);
    if (n < p.to - p.readStart) {
      throw Object.assign(new Error(`${target.path} ended at byte ${p.readStart + n}, before the image's byte ${p.to}`), { code: 'EIO' });
    }
  };
  const hash = async (i: number) => {
    const p = pieces[i]!;
    const range = expected[p.range]!;
    const final = p.to === range.end;
    const digest = await hasher.update(i % 2, p.from - p.readStart, p.to - p.readStart, range.algorithm, final);
    if (final && digest !== range.digest) mismatches.push({ start: range.start, end: range.end });
    done += p.to - p.from;
    options.onProgress?.(target.path, { phase: 'verifying', bytes: done, total });
  };
  try {
    let hashing: Promise<void> | null = null;
    for (let i = 0; i < pieces.length; i++) {
      // buffer i % 2 last held piece i - 2, hashed by now; piece i - 1 is hashed from the other buffer meanwhile
      const reading = read(i);
      reading.catch(() => {});
      await hashing;
      await reading;
      hashing = hash(i);
      hashing.catch(() => {});
    }
    await hashing;
  } finally {
    if (!options.hasher) await hasher.close();
  }
  return mergeRanges(mismatches);
}

/** Differences closer than this are one range: damaged data holds bytes that match by chance. */
const mergeGap = 4096;

/** At most this many exact ranges are reported; beyond it the last ones are merged (a dead card differs everywhere). */
const maxReported = 32;

/**
 * Narrows mismatching ranges to the exact bytes that differ, by reading the
 * image again for just those ranges and comparing byte for byte. Each range
 * returned starts and ends with a differing byte; differences less than 4 KiB
 * apart are reported as one range.
 */
export async function locateDifferences(target: FlashTarget, source: ImageSource, ranges: readonly ByteRange[], signal?: AbortSignal): Promise<ByteRange[]> {
  const readSize = 4 * MiB;
  const diffs: ByteRange[] = [];
  const note = (start: number, end: number) => {
    const last = diffs[diffs.length - 1];
    if (last && start - last.end < mergeGap) last.end = end;
    else diffs.push({ start, end });
  };
  const [buffer] = alignedBuffers(1, readSize + 2 * bufferAlignment);
  for await (const chunk of source.read(mergeRanges(ranges), readSize, signal)) {
    const readStart = alignDown(chunk.offset);
    const readEnd = Math.min(Math.ceil((chunk.offset + chunk.data.length) / bufferAlignment) * bufferAlignment, target.size);
    const window = buffer!.subarray(0, readEnd - readStart);
    const n = await target.read(window, readStart);
    const device = window.subarray(chunk.offset - readStart, Math.min(n, chunk.offset - readStart + chunk.data.length));
    if (device.length === chunk.data.length && device.equals(chunk.data)) continue;
    let runStart = -1;
    for (let i = 0; i < chunk.data.length; i++) {
      const differs = i >= device.length || device[i] !== chunk.data[i];
      if (differs && runStart < 0) runStart = i;
      if (!differs && runStart >= 0) {
        note(chunk.offset + runStart, chunk.offset + i);
        runStart = -1;
      }
    }
    if (runStart >= 0) note(chunk.offset + runStart, chunk.offset + chunk.data.length);
  }
  if (diffs.length <= maxReported) return diffs;
  const kept = diffs.slice(0, maxReported - 1);
  kept.push({ start: diffs[maxReported - 1]!.start, end: diffs[diffs.length - 1]!.end });
  return kept;
}
