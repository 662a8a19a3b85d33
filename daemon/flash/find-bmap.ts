import { readFile } from 'node:fs/promises';
import { daemonCaller, type Caller } from '../caller/caller.js';
import { openInput, type InputFile } from '../caller/files.js';
import { isCoreforgeError } from '../errors.js';
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

/** The largest bmap read: a 64 GiB image mapped in 4 KiB pieces is still far below it. */
const maxBmapBytes = 256 * 1024 * 1024;

/** Reads a bmap with the caller's rights: regular files only, bounded. */
async function readBmapFile(caller: Caller, path: string): Promise<Buffer> {
  const file: InputFile = openInput(caller, path, 'bmap');
  try {
    if (file.size > maxBmapBytes) throw flashError('invalid-bmap', `cannot read bmap ${path}: it is ${file.size} bytes, over the limit of ${maxBmapBytes}; name the bmap built with the image`, { bmap: path });
    return await readFile(file.path);
  } finally {
    file.close();
  }
}

/**
 * Reads and checks the bmap for an image: the one named, or the first found
 * beside the image; null when there is none. Its own checksum is checked here,
 * before anything is written. Read with `caller`'s rights.
 */
export async function loadBmap(imagePath: string, bmapPath?: string, caller: Caller = daemonCaller): Promise<LoadedBmap | null> {
  if (bmapPath !== undefined) {
    let bytes: Buffer;
    try {
      bytes = await readBmapFile(caller, bmapPath);
    } catch (err) {
      if (isCoreforgeError(err) && (err.kind === 'file-not-found' || err.kind === 'not-a-regular-file')) {
        throw flashError('bmap-not-found', `cannot read bmap ${bmapPath}: no such file; check the path, or leave the bmap out to write the whole image`, { bmap: bmapPath });
      }
      throw err;
    }
    return { path: bmapPath, bmap: readBmap(bytes, bmapPath) };
  }
  for (const candidate of bmapCandidates(imagePath)) {
    let bytes: Buffer;
    try {
      bytes = await readBmapFile(caller, candidate);
    } catch (err) {
      if (isCoreforgeError(err) && (err.kind === 'file-not-found' || err.kind === 'not-a-regular-file')) continue;
      throw err;
    }
    return { path: candidate, bmap: readBmap(bytes, candidate) };
  }
  return null;
}
