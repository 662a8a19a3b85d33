import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { generateBmap, type BmapRange } from './bmap.js';
import { blockRangeBytes, toBlockRanges, type ByteRange } from './bmap-ranges.js';

/**
 * Edge module: hashes the mapped ranges of an image file on disk and writes
 * its bmap text, for builders that know which byte ranges they wrote.
 */

const chunkSize = 1024 * 1024;

/** Reads each block range of an image file and returns it with its SHA-256, as a bmap lists it. */
export async function hashBlockRanges(
  imagePath: string,
  ranges: readonly { first: number; last: number }[],
  blockSize: number,
): Promise<{ imageSize: number; ranges: BmapRange[] }> {
  const file = await open(imagePath, 'r');
  try {
    const imageSize = (await file.stat()).size;
    const buffer = Buffer.alloc(chunkSize);
    const out: BmapRange[] = [];
    for (const r of ranges) {
      const span = blockRangeBytes(r, blockSize, imageSize);
      const hash = createHash('sha256');
      for (let done = 0; done < span.length; ) {
        const want = Math.min(chunkSize, span.length - done);
        const { bytesRead } = await file.read(buffer, 0, want, span.offset + done);
        if (bytesRead === 0) break;
        hash.update(buffer.subarray(0, bytesRead));
        done += bytesRead;
      }
      out.push({ first: r.first, last: r.last, sha256: hash.digest('hex') });
    }
    return { imageSize, ranges: out };
  } finally {
    await file.close();
  }
}

/** Builds the bmap text of an image file from the byte ranges written into it. */
export async function bmapForImage(imagePath: string, written: readonly ByteRange[], blockSize = 4096): Promise<string> {
  const file = await open(imagePath, 'r');
  const size = (await file.stat()).size;
  await file.close();
  const hashed = await hashBlockRanges(imagePath, toBlockRanges(written, blockSize, size), blockSize);
  return generateBmap({ imageSize: hashed.imageSize, blockSize, ranges: hashed.ranges });
}
