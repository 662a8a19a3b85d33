import { createRequire } from 'node:module';
import { constants as osConstants } from 'node:os';
import { join } from 'node:path';

/**
 * Edge module: the native addon (native/caller.c) behind typed functions that
 * throw Node-style errors (`code` ENOENT, EACCES...). Built by
 * scripts/build-native.mjs into native/build/.
 */

/** Who a file system call is made as: a caller's ids, or null for the daemon itself. */
export interface FsIdentity {
  uid: number;
  gid: number;
  groups: number[];
}

export interface PeerCredentials extends FsIdentity {
  pid: number;
}

interface Addon {
  openat(id: FsIdentity | null, dirfd: number, path: string, flags: number, mode: number): number;
  mkdirat(id: FsIdentity | null, dirfd: number, path: string, mode: number): number;
  renameat(id: FsIdentity | null, olddirfd: number, oldpath: string, newdirfd: number, newpath: string, flags: number): number;
  unlinkat(id: FsIdentity | null, dirfd: number, path: string, flags: number): number;
  linkat(olddirfd: number, oldpath: string, newdirfd: number, newpath: string, flags: number): number;
  readlinkat(id: FsIdentity | null, dirfd: number, path: string): string | number;
  peerCredentials(fd: number): PeerCredentials | number;
  constants: Record<
    'O_PATH' | 'O_NOFOLLOW' | 'O_DIRECTORY' | 'O_NONBLOCK' | 'O_CREAT' | 'O_EXCL' | 'O_RDONLY' | 'O_WRONLY' | 'O_RDWR' | 'O_NOCTTY' | 'AT_FDCWD' | 'AT_REMOVEDIR' | 'AT_SYMLINK_FOLLOW' | 'RENAME_NOREPLACE',
    number
  >;
}

const addonPath = join(import.meta.dirname, 'native', 'build', 'caller.node');

function load(): Addon {
  try {
    return createRequire(import.meta.url)(addonPath) as Addon;
  } catch (err) {
    throw new Error(`cannot load coreforged's native addon ${addonPath}: ${(err as Error).message}; build it with "npm run build" (or node scripts/build-native.mjs)`);
  }
}

const addon = load();
export const fsConstants = addon.constants;

const errnoNames = new Map<number, string>(Object.entries(osConstants.errno).map(([name, n]) => [n, name]));

/** The error Node's own fs functions would throw for -errno `r`. */
function errnoError(r: number, syscall: string, path: string): NodeJS.ErrnoException {
  const code = errnoNames.get(-r) ?? `E${-r}`;
  const err = new Error(`${code}: ${syscall} ${JSON.stringify(path)} failed (errno ${-r})`) as NodeJS.ErrnoException;
  err.code = code;
  err.errno = r;
  err.syscall = syscall;
  err.path = path;
  return err;
}

function check(r: number, syscall: string, path: string): number {
  if (r < 0) throw errnoError(r, syscall, path);
  return r;
}

export const openAt = (id: FsIdentity | null, dirfd: number, path: string, flags: number, mode = 0): number =>
  check(addon.openat(id, dirfd, path, flags, mode), 'open', path);

export const mkdirAt = (id: FsIdentity | null, dirfd: number, path: string, mode: number): void => void check(addon.mkdirat(id, dirfd, path, mode), 'mkdir', path);

export const renameAt = (id: FsIdentity | null, olddirfd: number, oldpath: string, newdirfd: number, newpath: string, flags = 0): void =>
  void check(addon.renameat(id, olddirfd, oldpath, newdirfd, newpath, flags), 'rename', `${oldpath} -> ${newpath}`);

export const unlinkAt = (id: FsIdentity | null, dirfd: number, path: string, flags = 0): void => void check(addon.unlinkat(id, dirfd, path, flags), 'unlink', path);

export const linkAt = (olddirfd: number, oldpath: string, newdirfd: number, newpath: string, flags = 0): void =>
  void check(addon.linkat(olddirfd, oldpath, newdirfd, newpath, flags), 'link', `${oldpath} -> ${newpath}`);

export function readlinkAt(id: FsIdentity | null, dirfd: number, path: string): string {
  const r = addon.readlinkat(id, dirfd, path);
  if (typeof r === 'number') throw errnoError(r, 'readlink', path);
  return r;
}

/** The uid, gid and groups of the process at the other end of a connected Unix socket, as the kernel recorded them at connect time. */
export function peerCredentials(fd: number): PeerCredentials {
  const r = addon.peerCredentials(fd);
  if (typeof r === 'number') throw errnoError(r, 'getsockopt', `fd ${fd}`);
  return r;
}
