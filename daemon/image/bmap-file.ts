import { stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { generateBmap, type BmapInput } from './bmap.js';
import type { ByteRange } from '../flash/ranges.js';
import { blockRangeBytes, toBlockRanges, type BlockRange } from './bmap-ranges.js';
import { rangeDigestsInWorker } from './digest-worker.js';

/**
 * Edge module: hashes the mapped ranges of an image file on disk and writes
 * its bmap text, for builders that know which byte ranges they wrote.
 */

/**
 * Splits block ranges longer than `maxBlocks`. A bmap may list a mapped run as
 * several adjacent ranges: each is still checked on its own, and the pieces
 * can be hashed in parallel (one long SHA-256 cannot).
 */
export function splitBlockRanges(ranges: readonly BlockRange[], maxBlocks: number): BlockRange[] {
  const out: BlockRange[] = [];
  for (const r of ranges) {
    for (let first = r.first; first <= r.last; first += maxBlocks) out.push({ first, last: Math.min(first + maxBlocks - 1, r.last) });
  }
  return out;
}

/** Cuts `items` into at most `lanes` runs of consecutive items with about the same total weight. */
function lanesByWeight<T>(items: readonly T[], weight: (t: T) => number, lanes: number): T[][] {
  const total = items.reduce((n, t) => n + weight(t), 0);
  const out: T[][] = [[]];
  let acc = 0;
  for (const t of items) {
    if (acc >= (total * out.length) / lanes && out.length < lanes) out.push([]);
    out[out.length - 1]!.push(t);
    acc += weight(t);
  }
  return out.filter((l) => l.length > 0);
}

/** Bytes per bmap range at most, so that a long mapped run is hashed on every core. */
const maxRangeBytes = 64 * 1024 * 1024;

/**
 * Hashes the bmap ranges of an image file from the byte ranges written into
 * it, on worker threads: one per core, four at most (each thread costs about
 * 14 MiB). The image must be complete; generateBmap makes the bmap text from
 * the result, in this step or a later one.
 */
export async function hashBmapRanges(imagePath: string, written: readonly ByteRange[], blockSize = 4096, signal?: AbortSignal): Promise<BmapInput> {
  const imageSize = (await stat(imagePath)).size;
  const ranges = splitBlockRanges(toBlockRanges(written, blockSize, imageSize), Math.max(1, Math.floor(maxRangeBytes / blockSize)));
  const lanes = lanesByWeight(ranges, (r) => r.last - r.first + 1, Math.min(4, availableParallelism()));
  const digests = await Promise.all(
    lanes.map((lane) => rangeDigestsInWorker({ path: imagePath, algorithm: 'sha256', ranges: lane.map((r) => blockRangeBytes(r, blockSize, imageSize)) }, signal)),
  );
  const hashed = lanes.flatMap((lane, i) => lane.map((r, j) => ({ first: r.first, last: r.last, sha256: digests[i]![j]!.toString('hex') })));
  return { imageSize, blockSize, ranges: hashed };
}

/** Builds the bmap text of an image file from the byte ranges written into it (see hashBmapRanges). */
export async function bmapForImage(imagePath: string, written: readonly ByteRange[], blockSize = 4096, signal?: AbortSignal): Promise<string> {
  return generateBmap(await hashBmapRanges(imagePath, written, blockSize, signal));
}
