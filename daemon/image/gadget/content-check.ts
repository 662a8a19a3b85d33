import { copyFile, cp, lstat, readFile, readdir, realpath, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { imageError } from '../errors.js';
import { linuxFilesystem } from './implicit.js';
import { isKernelRef, parseKernelRef } from './kernel-ref.js';
import { placeImages } from './raw-content.js';
import type { Gadget, GadgetStructure } from './types.js';
import { structureRef } from './volume-rules.js';

/**
 * Edge module: checks a validated gadget's content against the unpacked
 * gadget (and kernel) snap on disk. Every path must exist and resolve inside
 * its snap, also through symlinks; raw images must fit their structures.
 */

export interface ContentDirs {
  /** The unpacked gadget snap. */
  gadgetDir: string;
  /** The unpacked kernel snap, to check `$kernel:` references; they are only format-checked without it. */
  kernelDir?: string;
}

export interface ResolvedFile {
  source: string;
  target: string;
  unpack: boolean;
  /** Absolute path on disk; undefined for a `$kernel:` reference checked without a kernel directory. */
  path: string | undefined;
}

export interface ResolvedImage {
  image: string;
  path: string;
  /** Size of the image file in bytes. */
  size: number;
}

export interface CheckedStructure {
  volume: string;
  yamlIndex: number;
  name: string;
  files: ResolvedFile[];
  images: ResolvedImage[];
}

function contentError(message: string): never {
  throw imageError('invalid-gadget-content', message);
}

function isInside(path: string, root: string): boolean {
  return path === root || path.startsWith(root + sep);
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}

/** Resolves a path in a snap, failing when it is missing or its real path leaves the snap. */
async function resolveInside(root: string, rel: string, where: string, snap: string): Promise<string> {
  const joined = join(root, rel);
  let real: string;
  try {
    real = await realpath(joined);
  } catch {
    const dangling = await exists(joined);
    return contentError(
      dangling
        ? `${where}: source path is a symlink to a missing file; replace it with the file itself`
        : `${where}: source path does not exist; add it to the ${snap} snap or fix the path`,
    );
  }
  if (!isInside(real, root)) {
    contentError(`${where}: path resolves to "${real}", outside the ${snap} snap; replace the symlink with the file itself`);
  }
  return real;
}

/** Walks a directory that will be copied with symlinks followed: every symlink must land inside the snap. */
async function checkTree(dir: string, root: string, where: string, snap: string, seen: Set<string>): Promise<void> {
  if (seen.has(dir)) return;
  seen.add(dir);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      await checkTree(path, root, where, snap, seen);
    } else if (entry.isSymbolicLink()) {
      const real = await resolveInside(root, relative(root, path), `${where}: symlink "${relative(root, path)}"`, snap);
      if ((await stat(real)).isDirectory()) await checkTree(real, root, where, snap, seen);
    }
  }
}

async function checkFile(
  s: GadgetStructure,
  source: string,
  roots: { gadget: string; kernel: string | undefined },
  where: string,
): Promise<string | undefined> {
  let root = roots.gadget;
  let rel = source;
  let snap = 'gadget';
  if (isKernelRef(source)) {
    const ref = parseKernelRef(source);
    if (typeof ref === 'string') return contentError(`${where}: ${ref}`);
    if (roots.kernel === undefined) return undefined;
    root = roots.kernel;
    rel = ref.content;
    snap = 'kernel';
  }
  const real = await resolveInside(root, rel, where, snap);
  const isDir = (await stat(real)).isDirectory();
  if (source.endsWith('/') && !isDir) {
    contentError(`${where}: cannot specify trailing / for a source which is not a directory; remove the trailing /`);
  }
  // vfat cannot hold symlinks, so staging follows them: each must stay inside the snap. ext4 keeps them as symlinks.
  if (isDir && linuxFilesystem(s.filesystem) === 'vfat') await checkTree(real, root, where, snap, new Set());
  return real;
}

async function checkImage(root: string, image: string, where: string): Promise<ResolvedImage> {
  const label = `${where}: content "${image}"`;
  const real = await resolveInside(root, image, label, 'gadget');
  const info = await stat(real);
  if (!info.isFile()) contentError(`${label}: image is not a regular file; point "image" at a file`);
  return { image, path: real, size: info.size };
}

/**
 * Reads a file of an unpacked snap, refusing one that is (or goes through) a
 * symlink out of the snap: a snap's content is its author's, and nothing the
 * daemon reads as root may come from outside it.
 */
export async function readSnapFile(root: string, rel: string, snap: string): Promise<Buffer> {
  const top = await realpath(root);
  // missing: the caller's own "not found" (an ENOENT), not a content error
  await lstat(join(top, rel));
  return readFile(await resolveInside(top, rel, `${snap} snap file ${rel}`, snap));
}

/** Copies a file or a directory tree of an unpacked snap, symlinks followed once checked to stay inside the snap (see readSnapFile). */
export async function copySnapContent(root: string, rel: string, dest: string, snap: string): Promise<void> {
  const top = await realpath(root);
  const real = await resolveInside(top, rel, `${snap} snap file ${rel}`, snap);
  if ((await stat(real)).isDirectory()) {
    await checkTree(real, top, `${snap} snap directory ${rel}`, snap, new Set());
    await cp(real, dest, { recursive: true, dereference: true });
  } else {
    await copyFile(real, dest);
  }
}

/** Checks every content entry of a gadget against the snaps on disk; throws invalid-gadget-content. */
export async function checkGadgetContent(gadget: Gadget, dirs: ContentDirs): Promise<CheckedStructure[]> {
  const roots = {
    gadget: await realpath(dirs.gadgetDir),
    kernel: dirs.kernelDir === undefined ? undefined : await realpath(dirs.kernelDir),
  };
  const out: CheckedStructure[] = [];
  for (const volume of gadget.volumes) {
    for (const s of volume.structures) {
      const ref = `structure ${structureRef(s.yamlIndex, s.name)}`;
      const checked: CheckedStructure = { volume: volume.name, yamlIndex: s.yamlIndex, name: s.name, files: [], images: [] };
      for (const c of s.content) {
        if (c.kind === 'file') {
          const path = await checkFile(s, c.source, roots, `${ref}, content source:${c.source}`);
          checked.files.push({ source: c.source, target: c.target, unpack: c.unpack, path });
        } else {
          checked.images.push(await checkImage(roots.gadget, c.image, ref));
        }
      }
      // an emmc hardware partition, or a size left to an installer: the room is known only on the device
      const roomKnown = volume.schema !== 'emmc' && s.size > 0;
      if (checked.images.length > 0 && roomKnown) {
        const sizes = new Map(checked.images.map((i) => [i.image, i.size]));
        placeImages({ yamlIndex: s.yamlIndex, name: s.name, offset: 0, size: s.size, content: s.content }, sizes);
      }
      out.push(checked);
    }
  }
  return out;
}
