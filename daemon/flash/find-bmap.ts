import { readFile } from 'node:fs/promises';
import { type Bmap, readBmap } from './bmap.js';
import { compressionSuffix } from './compression.js';
import { flashError } from './errors.js';

/** A bmap read from disk, with where it came from. */
export interface LoadedBmap {
  path: string;
  bmap: Bmap;
}

/** Where a bmap for an image may sit: IMAGE.bmap, then (for IMAGE.img.xz) IMAGE.img.bmap, as bmaptool looks. */
export function bmapCandidates(imagePath: string): string[] {
  const out = [`${imagePath}.bmap`];
  const suffix = compressionSuffix(imagePath);
  if (suffix) out.push(`${imagePath.slice(0, -suffix.length)}.bmap`);
  return out;
}

/**
 * Reads and checks the bmap for an image: the one named, or the first found
 * beside the image; null when there is none. Its own checksum is checked here,
 * before anything is written.
 */
export async function loadBmap(imagePath: string, bmapPath?: string): Promise<LoadedBmap | null> {
  if (bmapPath !== undefined) {
    let bytes: Buffer;
    try {
      bytes = await readFile(bmapPath);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') {
        throw flashError('bmap-not-found', `cannot read bmap ${bmapPath}: no such file; check the path, or leave the bmap out to write the whole image`, { bmap: bmapPath });
      }
      throw err;
    }
    return { path: bmapPath, bmap: readBmap(bytes, bmapPath) };
  }
  for (const candidate of bmapCandidates(imagePath)) {
    let bytes: Buffer;
    try {
      bytes = await readFile(candidate);
    } catch {
      continue;
    }
    return { path: candidate, bmap: readBmap(bytes, candidate) };
  }
  return null;
}
