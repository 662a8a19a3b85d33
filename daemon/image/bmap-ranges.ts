import type { ByteRange } from '../flash/ranges.js';
import { imageError } from './errors.js';

/** A span of whole blocks, inclusive, as bmap lists them. */
export interface BlockRange {
  first: number;
  last: number;
}

/**
 * Turns the byte ranges a builder wrote into the sorted, merged block ranges a
 * bmap lists: each range widened to block boundaries, clipped to the image,
 * overlapping and adjacent ranges joined, empty ones dropped.
 */
export function toBlockRanges(written: readonly ByteRange[], blockSize: number, imageSize: number): BlockRange[] {
  if (!Number.isSafeInteger(blockSize) || blockSize <= 0) {
    throw imageError('invalid-bmap', `cannot use block size ${blockSize}: use a positive block size such as 4096`);
  }
  const blocksCount = Math.ceil(imageSize / blockSize);
  const blocks = written
    .filter((r) => r.end > r.start && r.start < imageSize)
    .map((r) => ({
      first: Math.floor(r.start / blockSize),
      last: Math.min(Math.ceil(r.end / blockSize) - 1, blocksCount - 1),
    }))
    .sort((a, b) => a.first - b.first || a.last - b.last);
  const merged: BlockRange[] = [];
  for (const r of blocks) {
    const top = merged[merged.length - 1];
    if (top && r.first <= top.last + 1) top.last = Math.max(top.last, r.last);
    else merged.push({ ...r });
  }
  return merged;
}

/** The bytes of the image a block range covers (the last block clipped to the image size), for hashing. */
export function blockRangeBytes(range: BlockRange, blockSize: number, imageSize: number): ByteRange {
  return { start: range.first * blockSize, end: Math.min((range.last + 1) * blockSize, imageSize) };
}
