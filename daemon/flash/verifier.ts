import { createHash } from 'node:crypto';
import { alignedBuffers, bufferAlignment } from './aligned.js';
import { throwIfAborted } from './errors.js';
import type { FlashProgressCallback } from './progress.js';
import { type ByteRange, mergeRanges, type RangeDigest, rangesBytes } from './ranges.js';
import type { ImageSource } from './source.js';
import type { FlashTarget } from './target.js';

/** How the verifier reads a drive back. */
export interface VerifyOptions {
  /** Bytes per read; default 4 MiB. */
  readSize?: number;
  onProgress?: FlashProgressCallback;
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

/** Reads the pieces in order with one read ahead, handing each to `use` with the bytes of its range. */
async function readPieces(
  target: FlashTarget,
  pieces: readonly Piece[],
  readSize: number,
  use: (piece: Piece, bytes: Buffer) => void,
  signal: AbortSignal | undefined,
): Promise<void> {
  const buffers = alignedBuffers(2, readSize + bufferAlignment);
  const start = (i: number) => {
    const p = pieces[i]!;
    const buf = buffers[i % 2]!.subarray(0, p.readLength);
    const done = target.read(buf, p.readStart).then((n) => ({ n, buf }));
    done.catch(() => {});
    return done;
  };
  let pending = pieces.length > 0 ? start(0) : null;
  for (let i = 0; pending; i++) {
    const { n, buf } = await pending;
    throwIfAborted(signal, `verifying ${target.path}`);
    const p = pieces[i]!;
    if (n < p.to - p.readStart) {
      throw Object.assign(new Error(`${target.path} ended at byte ${p.readStart + n}, before the image's byte ${p.to}`), { code: 'EIO' });
    }
    pending = i + 1 < pieces.length ? start(i + 1) : null;
    use(p, buf.subarray(p.from - p.readStart, p.to - p.readStart));
  }
}

/**
 * Reads the drive back (O_DIRECT through the target: the drive, not the page
 * cache) and returns the expected ranges whose hash differs, merged.
 */
export async function verifyTarget(target: FlashTarget, expected: readonly RangeDigest[], options: VerifyOptions = {}, signal?: AbortSignal): Promise<ByteRange[]> {
  const readSize = options.readSize ?? 4 * MiB;
  const total = rangesBytes(expected);
  const mismatches: ByteRange[] = [];
  let hash = expected[0] ? createHash(expected[0].algorithm) : null;
  let done = 0;
  await readPieces(target, readPlan(expected, readSize, target.size), readSize, (piece, bytes) => {
    const range = expected[piece.range]!;
    hash ??= createHash(range.algorithm);
    hash.update(bytes);
    done += bytes.length;
    if (piece.to === range.end) {
      if (hash.digest('hex') !== range.digest) mismatches.push({ start: range.start, end: range.end });
      hash = null;
    }
    options.onProgress?.(target.path, { phase: 'verifying', bytes: done, total });
  }, signal);
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
