import { createHash, type Hash } from 'node:crypto';
import { flashError } from './errors.js';
import { type ByteRange, formatRange, type RangeDigest } from './ranges.js';
import type { Chunk } from './source.js';

/** A range to hash as the image streams past, with the digest the bmap promises for it (if any). */
export interface DigestTarget extends ByteRange {
  expected: string | null;
}

/**
 * Passes chunks through unchanged while hashing each planned range; pushes the
 * digests to `out` (the read-back verifier's expectations) and throws
 * 'bmap-mismatch' as soon as a range differs from what the bmap promises.
 */
export async function* digestChunks(
  chunks: AsyncIterable<Chunk>,
  plan: readonly DigestTarget[],
  algorithm: 'sha256' | 'sha1',
  out: RangeDigest[],
  imagePath: string,
): AsyncGenerator<Chunk> {
  let index = 0;
  let hash: Hash | null = null;
  for await (const chunk of chunks) {
    const end = chunk.offset + chunk.data.length;
    let at = chunk.offset;
    while (at < end && index < plan.length) {
      const range = plan[index]!;
      if (range.end <= at) {
        index++;
        hash = null;
        continue;
      }
      if (range.start >= end) break;
      const from = Math.max(at, range.start);
      const to = Math.min(end, range.end);
      hash ??= createHash(algorithm);
      hash.update(chunk.data.subarray(from - chunk.offset, to - chunk.offset));
      at = to;
      if (to === range.end) {
        const digest = hash.digest('hex');
        hash = null;
        index++;
        if (range.expected !== null && digest !== range.expected) {
          throw flashError(
            'bmap-mismatch',
            `cannot flash ${imagePath}: its ${formatRange(range)} do not match the bmap's checksum; the bmap belongs to another image or the image is damaged, use the bmap built with this image`,
            { image: imagePath, range: { start: range.start, end: range.end } },
          );
        }
        out.push({ start: range.start, end: range.end, algorithm, digest });
      }
    }
    yield chunk;
  }
}
