// Test images for flashing: deterministic data in chosen ranges, holes elsewhere,
// written as sparse files, compressed with the real tools, with bmaps built here.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { open } from 'node:fs/promises';
import type { ByteRange } from '../../../daemon/flash/ranges.js';

export const MiB = 1 << 20;

/** Deterministic bytes (xorshift32), so a failing comparison can be reproduced. */
export function pseudoRandom(length: number, seed: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i + 4 <= length; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out.writeUInt32LE(x >>> 0, i);
  }
  for (let i = length - (length % 4); i < length; i++) out[i] = i & 0xff;
  return out;
}

/** An image held in memory as well as on disk. */
export interface TestImage {
  path: string;
  size: number;
  /** The whole image, holes as zeros. */
  data: Buffer;
  /** Where it has data (block-aligned). */
  ranges: ByteRange[];
}

/** Writes a sparse image with pseudo-random data in `ranges` and holes elsewhere. */
export async function writeImage(path: string, size: number, ranges: ByteRange[], seed = 7): Promise<TestImage> {
  const data = Buffer.alloc(size);
  const handle = await open(path, 'w');
  try {
    await handle.truncate(size);
    ranges.forEach((r, i) => {
      pseudoRandom(r.end - r.start, seed * 1000 + i + 1).copy(data, r.start);
    });
    // An MBR boot signature where the data covers it, so the image passes as a disk image (coreforged
    // refuses to flash one with no partition table and no filesystem at its start, unless forced).
    if (ranges.some((r) => r.start <= 510 && r.end >= 512)) data.writeUInt16LE(0xaa55, 510);
    for (const r of ranges) await handle.write(data, r.start, r.end - r.start, r.start);
  } finally {
    await handle.close();
  }
  return { path, size, data, ranges };
}

/** The layout most tests use: a partition-table-like start, scattered data, a last block. */
export function typicalRanges(size: number): ByteRange[] {
  return [
    { start: 0, end: 64 * 1024 },
    { start: MiB + 4096, end: 2 * MiB },
    { start: 5 * MiB, end: 7 * MiB + 8192 },
    { start: 12 * MiB, end: 12 * MiB + 4096 },
    { start: size - 4096, end: size },
  ];
}

/** A bmap 2.0 for an image, as bmaptool writes it, with range and file checksums. */
export function bmapFor(image: TestImage, blockSize = 4096): string {
  const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
  const blocks = Math.ceil(image.size / blockSize);
  let mapped = 0;
  const lines = image.ranges.map((r) => {
    const first = Math.floor(r.start / blockSize);
    const last = Math.ceil(r.end / blockSize) - 1;
    mapped += last - first + 1;
    const bytes = image.data.subarray(first * blockSize, Math.min((last + 1) * blockSize, image.size));
    return `        <Range chksum="${sha(bytes)}"> ${first === last ? first : `${first}-${last}`} </Range>`;
  });
  const zeros = '0'.repeat(64);
  const xml = (checksum: string) => `<?xml version="1.0" ?>
<!-- made by the coreforge flash tests; the comment mentions <MappedBlocksCount> like bmaptool's -->
<bmap version="2.0">
    <ImageSize> ${image.size} </ImageSize>
    <BlockSize> ${blockSize} </BlockSize>
    <BlocksCount> ${blocks} </BlocksCount>
    <MappedBlocksCount> ${mapped} </MappedBlocksCount>
    <ChecksumType> sha256 </ChecksumType>
    <BmapFileChecksum> ${checksum} </BmapFileChecksum>
    <BlockMap>
${lines.join('\n')}
    </BlockMap>
</bmap>
`;
  return xml(sha(Buffer.from(xml(zeros))));
}

const compressors = { gzip: ['gzip', '.gz'], xz: ['xz', '.xz'], zstd: ['zstd', '.zst'] } as const;

/** Compresses a file with the real tool, keeping the original; returns the compressed path. */
export function compressFile(path: string, kind: keyof typeof compressors): string {
  const [tool, ext] = compressors[kind];
  execFileSync(tool, kind === 'zstd' ? ['-q', '-f', '-k', path] : ['-f', '-k', path]);
  return `${path}${ext}`;
}

/** True when a program can be run (xz, zstd, bmaptool are optional on a developer's machine). */
export function haveTool(name: string): boolean {
  try {
    execFileSync(name, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
