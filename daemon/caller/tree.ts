import { closeSync, fstatSync } from 'node:fs';
import { copyFile, mkdir, readdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { CoreforgeError } from '../errors.js';
import type { Caller, CallerErrorKind } from './caller.js';
import { fdPath, identityOf, openError } from './files.js';
import { fsConstants as c, openAt, readlinkAt } from './native.js';

/** Bounds on a directory tree taken from a caller. */
export interface TreeLimits {
  bytes: number;
  entries: number;
  depth: number;
}

export const defaultTreeLimits: TreeLimits = { bytes: 2 * 1024 ** 3, entries: 100_000, depth: 64 };

/**
 * Edge module: copies a directory tree a request names into a directory of
 * the daemon's, reading it with the caller's rights: every entry is opened
 * as the caller relative to its open parent, symlinks are copied as symlinks
 * (never followed), and anything but directories, regular files and symlinks
 * is refused. The daemon then works on its own copy, which the caller can
 * no longer change or redirect.
 */
export async function copyTreeAsCaller(caller: Caller, path: string, dest: string, what: string, limits: TreeLimits = defaultTreeLimits): Promise<void> {
  const id = identityOf(caller);
  let rootFd: number;
  try {
    rootFd = openAt(id, c.AT_FDCWD, path, c.O_RDONLY | c.O_DIRECTORY);
  } catch (err) {
    throw openError(err, caller, path, what);
  }
  const seen = { bytes: 0, entries: 0 };
  const over = (rule: string) => new CoreforgeError<CallerErrorKind>('file-too-large', `cannot read ${what} ${path}: it has ${rule}; name a smaller tree`, { path });

  const copyDir = async (dirFd: number, rel: string, to: string, depth: number): Promise<void> => {
    if (depth > limits.depth) throw over(`directories nested more than ${limits.depth} deep`);
    await mkdir(to, { recursive: true, mode: 0o755 });
    for (const name of await readdir(fdPath(dirFd))) {
      if (++seen.entries > limits.entries) throw over(`more than ${limits.entries} entries`);
      const shown = join(path, rel, name);
      let fd: number;
      try {
        fd = openAt(id, dirFd, name, c.O_PATH | c.O_NOFOLLOW);
      } catch (err) {
        throw openError(err, caller, shown, what);
      }
      let st;
      try {
        st = fstatSync(fd);
      } finally {
        closeSync(fd);
      }
      if (st.isSymbolicLink()) {
        await symlink(readlinkAt(id, dirFd, name), join(to, name));
      } else if (st.isDirectory()) {
        let sub: number;
        try {
          sub = openAt(id, dirFd, name, c.O_RDONLY | c.O_DIRECTORY | c.O_NOFOLLOW);
        } catch (err) {
          throw openError(err, caller, shown, what);
        }
        try {
          await copyDir(sub, join(rel, name), join(to, name), depth + 1);
        } finally {
          closeSync(sub);
        }
      } else if (st.isFile()) {
        seen.bytes += st.size;
        if (seen.bytes > limits.bytes) throw over(`more than ${limits.bytes} bytes of files`);
        let file: number;
        try {
          file = openAt(id, dirFd, name, c.O_RDONLY | c.O_NOFOLLOW | c.O_NONBLOCK);
        } catch (err) {
          throw openError(err, caller, shown, what);
        }
        try {
          await copyFile(fdPath(file), join(to, name));
        } finally {
          closeSync(file);
        }
      } else {
        throw new CoreforgeError<CallerErrorKind>('not-a-regular-file', `cannot read ${what} ${path}: ${join(rel, name)} is neither a file, a directory nor a symlink; remove it`, { path: shown });
      }
    }
  };
  try {
    await copyDir(rootFd, '', dest, 0);
  } finally {
    closeSync(rootFd);
  }
}
