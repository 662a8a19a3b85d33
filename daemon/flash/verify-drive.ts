import { openBlockDeviceForReading } from './block-device.js';
import { digestChunks } from './digests.js';
import { flashError } from './errors.js';
import type { Exec } from './exec.js';
import { runProgram } from './exec.js';
import { loadBmap } from './find-bmap.js';
import { openImageSource } from './open-source.js';
import type { FlashProgressCallback } from './progress.js';
import { type ByteRange, type RangeDigest, splitRanges } from './ranges.js';
import type { ImageSource } from './source.js';
import type { FlashTarget } from './target.js';
import { locateDifferences, verifyTarget } from './verifier.js';

/** What a verification of an already-flashed drive found. */
export interface DriveCheck {
  path: string;
  imageSize: number;
  /** Bytes compared (the bmap's mapped bytes, or the whole image). */
  bytesVerified: number;
  /** Exact byte ranges of the drive that differ from the image; empty when it matches. */
  mismatches: ByteRange[];
}

/** Digests the image's ranges from its bmap, or by reading the image in 1 MiB pieces. */
async function expectedDigests(source: ImageSource, ranges: ByteRange[] | null, imageSize: number, signal?: AbortSignal): Promise<RangeDigest[]> {
  const plan = splitRanges(ranges ?? [{ start: 0, end: imageSize }], 1 << 20).map((r) => ({ ...r, expected: null }));
  const out: RangeDigest[] = [];
  for await (const _ of digestChunks(source.read(ranges, 4 << 20, signal), plan, 'sha256', out, source.path)) {
    // digestChunks records the digests as the chunks pass
  }
  return out;
}

/**
 * Checks a drive against an image without writing: reads the drive back with
 * O_DIRECT and reports the exact byte ranges that differ. Used after a flash
 * made by another tool, or to re-check a card later.
 */
export async function verifyDrive(
  image: string,
  drivePath: string,
  options: { bmap?: string; useBmap?: boolean; onProgress?: FlashProgressCallback; exec?: Exec; openTarget?: (path: string) => Promise<FlashTarget> } = {},
  signal?: AbortSignal,
): Promise<DriveCheck> {
  const opened = await openImageSource(image, options.exec ?? runProgram);
  try {
    return await verifyOpened(image, opened.source, drivePath, options, signal);
  } finally {
    opened.close();
  }
}

async function verifyOpened(
  image: string,
  source: ImageSource,
  drivePath: string,
  options: { bmap?: string; useBmap?: boolean; onProgress?: FlashProgressCallback; openTarget?: (path: string) => Promise<FlashTarget> },
  signal?: AbortSignal,
): Promise<DriveCheck> {
  const loaded = options.useBmap === false ? null : await loadBmap(image, options.bmap);
  const bmap = loaded?.bmap ?? null;
  let imageSize = bmap?.imageSize ?? source.size;
  if (imageSize === null) {
    let size = 0;
    for await (const c of source.read(null, 4 << 20, signal)) size = c.offset + c.data.length;
    imageSize = size;
  }
  const checked = bmap !== null && bmap.ranges.every((r) => r.checksum !== null);
  const expected: RangeDigest[] = checked
    ? bmap.ranges.map((r) => ({ start: r.start, end: r.end, algorithm: bmap.checksumType, digest: r.checksum! }))
    : await expectedDigests(source, bmap ? bmap.ranges : null, imageSize, signal);
  const target = await (options.openTarget ?? openBlockDeviceForReading)(drivePath);
  try {
    if (target.size < imageSize) {
      throw flashError('drive-too-small', `cannot verify ${drivePath}: it is ${target.size} bytes, smaller than the ${imageSize}-byte image; this is not the drive the image was flashed to`, { drive: drivePath });
    }
    const coarse = await verifyTarget(target, expected, { onProgress: options.onProgress }, signal);
    const mismatches = coarse.length > 0 ? await locateDifferences(target, source, coarse, signal) : [];
    return { path: drivePath, imageSize, bytesVerified: expected.reduce((n, r) => n + r.end - r.start, 0), mismatches: coarse.length > 0 && mismatches.length === 0 ? coarse : mismatches };
  } finally {
    await target.close();
  }
}
