import { flashError } from './errors.js';

/** How an image file is compressed. */
export type Compression = 'none' | 'gzip' | 'xz' | 'zstd';

const magics: { compression: Exclude<Compression, 'none'>; bytes: number[] }[] = [
  { compression: 'gzip', bytes: [0x1f, 0x8b] },
  { compression: 'xz', bytes: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00] },
  { compression: 'zstd', bytes: [0x28, 0xb5, 0x2f, 0xfd] },
];

const extensions: Record<string, Exclude<Compression, 'none'>> = { '.gz': 'gzip', '.xz': 'xz', '.zst': 'zstd', '.zstd': 'zstd' };

/** Formats coreforge recognises but cannot stream, with what to do instead. */
const refused: { ext: string; bytes: number[]; name: string }[] = [
  { ext: '.zip', bytes: [0x50, 0x4b, 0x03, 0x04], name: 'zip' },
  { ext: '.bz2', bytes: [0x42, 0x5a, 0x68], name: 'bzip2' },
  { ext: '.7z', bytes: [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c], name: '7z' },
];

/** The compression suffix of a path (".xz"), or "" for a raw image. */
export function compressionSuffix(path: string): string {
  const m = /\.(gz|xz|zst|zstd)$/i.exec(path);
  return m ? m[0].toLowerCase() : '';
}

function startsWith(head: Uint8Array, bytes: number[]): boolean {
  return head.length >= bytes.length && bytes.every((b, i) => head[i] === b);
}

/**
 * Decides how an image is compressed from its first bytes and its name. The
 * bytes decide; a name that promises a compression the bytes do not have is
 * refused rather than written raw to a drive.
 */
export function detectCompression(path: string, head: Uint8Array): Compression {
  const byMagic = magics.find((m) => startsWith(head, m.bytes))?.compression;
  const suffix = compressionSuffix(path);
  const byName = suffix ? extensions[suffix] : undefined;
  for (const r of refused) {
    if (startsWith(head, r.bytes) || path.toLowerCase().endsWith(r.ext)) {
      throw flashError('unsupported-image', `cannot flash ${path}: ${r.name} archives cannot be streamed to a drive; extract the .img first, or recompress it with xz, gzip or zstd`, { image: path });
    }
  }
  if (byName && byMagic !== byName) {
    if (head.length < 6) {
      throw flashError('truncated-image', `cannot flash ${path}: the file is only ${head.length} bytes, too short to be ${byName} data; download or copy the image again`, { image: path });
    }
    throw flashError(
      'unsupported-image',
      `cannot flash ${path}: its name ends in ${suffix} but its content is ${byMagic ?? 'not compressed'}; rename it to match its content or fetch the image again`,
      { image: path, byName, byContent: byMagic ?? 'none' },
    );
  }
  return byMagic ?? 'none';
}
