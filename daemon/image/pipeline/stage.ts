import { cp, mkdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { imageError } from '../errors.js';
import type { ResolvedFile } from '../gadget/content-check.js';

/**
 * Edge module: copies a structure's gadget content into a staging tree by
 * snapd's mounted-filesystem rules: a source directory ending in `/` gives
 * its contents, one without gives itself; a file copied to a target ending
 * in `/` keeps its name. On vfat, which cannot hold symlinks, symlinks
 * (already checked to stay inside the snap) are followed; elsewhere they are
 * copied as symlinks, never followed (an ext4 tree may point at /etc/...: on
 * the device, not on this host).
 */

/** Where a content entry lands inside the filesystem root `root`. */
export async function stageContent(files: readonly ResolvedFile[], root: string, followSymlinks: boolean): Promise<void> {
  await mkdir(root, { recursive: true });
  for (const f of files) {
    if (f.path === undefined) {
      throw imageError('invalid-gadget-content', `cannot copy content ${f.source}: the kernel snap it refers to was not unpacked`);
    }
    const target = f.target.replace(/^\/+/, '');
    const info = await stat(f.path);
    let dest: string;
    if (info.isDirectory()) {
      dest = f.source.endsWith('/') ? join(root, target) : join(root, target, basename(f.path));
      await mkdir(dest, { recursive: true });
      await cp(f.path, dest, followSymlinks ? { recursive: true, dereference: true, force: true } : { recursive: true, verbatimSymlinks: true, force: true });
    } else {
      dest = f.target.endsWith('/') || target === '' ? join(root, target, basename(f.source)) : join(root, target);
      await mkdir(dirname(dest), { recursive: true });
      await cp(f.path, dest, { dereference: true, force: true });
    }
  }
}
