import { randomBytes } from 'node:crypto';
import { closeSync, fchmodSync, fchownSync, fstatSync, readSync, type Stats } from 'node:fs';
import { lchown, lstat, readdir, rm } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { CoreforgeError } from '../errors.js';
import type { Caller, CallerErrorKind } from './caller.js';
import { fsConstants as c, mkdirAt, openAt, renameAt, unlinkAt, type FsIdentity } from './native.js';

/**
 * Edge module: the daemon runs as root, so every path a request names is used
 * with the rights of the caller who named it. Files are opened as the caller
 * (the kernel checks its uid and groups on every directory of the path), and
 * from then on the daemon and the tools it runs reach the very file opened
 * through /proc/PID/fd/N, whatever is renamed or symlinked in its place later.
 * Outputs are created exclusively, as the caller, under names the daemon
 * chooses, and renamed into place by the caller's rights within one directory
 * held open, so no symlink and no rename can send them elsewhere.
 */

/** A path through which the daemon and its child processes reach an open file or directory. */
export const fdPath = (fd: number): string => `/proc/${process.pid}/fd/${fd}`;

/** The identity file calls are made with: the caller's, unless it is root or the daemon cannot switch (not running as root). */
export function identityOf(caller: Caller): FsIdentity | null {
  if (caller.uid === 0 || process.geteuid?.() !== 0) return null;
  return { uid: caller.uid, gid: caller.gid, groups: caller.groups };
}

function callerError(kind: CallerErrorKind, message: string, path: string, code?: string): CoreforgeError<CallerErrorKind> {
  return new CoreforgeError(kind, message, { path, ...(code ? { code } : {}) });
}

function typeName(st: Stats): string {
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isDirectory()) return 'a directory';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** Maps an errno from opening `path` as `caller` to an error naming the input, the rule and the fix. */
export function openError(err: unknown, caller: Caller, path: string, what: string, writing = false): Error {
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'ENOENT' || e.code === 'ENOTDIR') return callerError('file-not-found', `cannot ${writing ? 'use' : 'read'} ${what} ${path}: no such file or directory; check the path`, path, e.code);
  if (e.code === 'EACCES' || e.code === 'EPERM' || e.code === 'EROFS') {
    return callerError(
      'permission-denied',
      `cannot ${writing ? 'write to' : 'read'} ${what} ${path}: uid ${caller.uid} may not ${writing ? 'write there' : 'read it'} (${e.code}); coreforged uses every path with the rights of the user who names it, so ${writing ? 'choose a directory you can write to' : 'make it readable by you or name a file you can read'}`,
      path,
      e.code,
    );
  }
  if (e.code === 'ELOOP') return callerError('file-not-found', `cannot ${writing ? 'use' : 'read'} ${what} ${path}: too many levels of symbolic links; name the file itself`, path, e.code);
  return e instanceof Error ? e : new Error(String(err));
}

function absolute(path: string, what: string): void {
  if (!isAbsolute(path)) {
    throw new CoreforgeError('bad-request', `cannot use ${what} ${JSON.stringify(path)}: it must be an absolute path (the daemon does not share the client's working directory)`);
  }
}

/** A file a request named, opened with its caller's rights. */
export interface InputFile {
  /** The path as the request named it, for messages. */
  name: string;
  /** The opened file itself, for the daemon and its tools (see fdPath). */
  path: string;
  fd: number;
  size: number;
  /** For a block device, `size` is 0: the device's size comes from its driver. */
  type: 'file' | 'block-device';
  dev: number;
  ino: number;
  close(): void;
}

/**
 * Opens a file the request names, as its caller, without blocking (a FIFO
 * opens at once and is refused) and without taking a terminal. Only regular
 * files are accepted, and block devices where `blockDevices` says so.
 */
export function openInput(caller: Caller, path: string, what: string, options: { blockDevices?: boolean } = {}): InputFile {
  absolute(path, what);
  let fd: number;
  try {
    fd = openAt(identityOf(caller), c.AT_FDCWD, path, c.O_RDONLY | c.O_NONBLOCK | c.O_NOCTTY);
  } catch (err) {
    throw openError(err, caller, path, what);
  }
  let st: Stats;
  try {
    st = fstatSync(fd);
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  const ok = st.isFile() || (options.blockDevices === true && st.isBlockDevice());
  if (!ok) {
    closeSync(fd);
    throw callerError(
      'not-a-regular-file',
      `cannot read ${what} ${path}: it is ${typeName(st)}; name a regular file${options.blockDevices ? ' or a block device' : ''}`,
      path,
      st.isDirectory() ? 'EISDIR' : undefined,
    );
  }
  let open = true;
  return {
    name: path,
    path: fdPath(fd),
    fd,
    size: st.isFile() ? st.size : 0,
    type: st.isFile() ? 'file' : 'block-device',
    dev: st.dev,
    ino: st.ino,
    close: () => {
      if (open) closeSync(fd);
      open = false;
    },
  };
}

/** Reads a whole (small) file the request names, as its caller, refusing one over `maxBytes`. */
export function readInput(caller: Caller, path: string, what: string, maxBytes: number): Buffer {
  const file = openInput(caller, path, what);
  try {
    if (file.size > maxBytes) {
      throw callerError('file-too-large', `cannot read ${what} ${path}: it is ${file.size} bytes, over the limit of ${maxBytes}; name the right file`, path);
    }
    const buf = Buffer.alloc(file.size);
    let at = 0;
    while (at < buf.length) {
      const n = readSync(file.fd, buf, at, buf.length - at, at);
      if (n === 0) break;
      at += n;
    }
    return buf.subarray(0, at);
  } finally {
    file.close();
  }
}

/** Creates `path` and its missing parents as the caller (mkdir -p with its rights). */
function makeDirectories(id: FsIdentity | null, path: string): void {
  const parts = path.split('/').filter(Boolean);
  for (let i = 1; i <= parts.length; i++) {
    try {
      mkdirAt(id, c.AT_FDCWD, `/${parts.slice(0, i).join('/')}`, 0o755);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
}

/** A file being written in an output directory under a temporary name. */
export interface OutputFile {
  /** The name it gets when committed. */
  name: string;
  /** Its temporary name in the directory. */
  temp: string;
  fd: number;
  /** The open file itself (see fdPath). */
  path: string;
  close(): void;
}

const singleName = (name: string) => name !== '' && name !== '.' && name !== '..' && !name.includes('/') && !name.includes('\0');

/**
 * A directory a request names for its outputs, created if missing and held
 * open, all with the caller's rights; files in it end owned by the caller.
 */
export class OutputDir {
  private constructor(
    private readonly caller: Caller,
    /** The directory as the request named it. */
    readonly name: string,
    readonly fd: number,
    /** The device and inode of the directory: two requests naming it by different paths still agree. */
    readonly key: string,
  ) {}

  /** Opens the directory `path` as `caller`, making it and its parents first if needed (unless `create` is false). */
  static open(caller: Caller, path: string, what: string, options: { create?: boolean } = {}): OutputDir {
    absolute(path, what);
    const id = identityOf(caller);
    const openDir = () => openAt(id, c.AT_FDCWD, path, c.O_RDONLY | c.O_DIRECTORY);
    let fd: number;
    try {
      try {
        fd = openDir();
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || options.create === false) throw err;
        makeDirectories(id, path);
        fd = openDir();
      }
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code === 'ENOTDIR') throw callerError('not-a-regular-file', `cannot use ${what} ${path}: it is not a directory; name a directory`, path);
      throw openError(err, caller, path, what, true);
    }
    const st = fstatSync(fd);
    return new OutputDir(caller, path, fd, `${st.dev}:${st.ino}`);
  }

  /** The open directory itself (see fdPath). */
  get path(): string {
    return fdPath(this.fd);
  }

  /** A fresh temporary name for a file that will be called `name`; a caller that must survive a crash records it before `create`. */
  static tempName(name: string): string {
    if (!singleName(name)) throw new Error(`output name ${JSON.stringify(name)} is not a single file name`);
    return `.${name}.${randomBytes(6).toString('hex')}.partial`;
  }

  /** Starts a new file that will be called `name` once committed: created exclusively, as the caller, under a temporary name. */
  create(name: string, temp = OutputDir.tempName(name)): OutputFile {
    if (!singleName(temp)) throw new Error(`temporary name ${JSON.stringify(temp)} is not a single file name`);
    let fd: number;
    try {
      fd = openAt(identityOf(this.caller), this.fd, temp, c.O_RDWR | c.O_CREAT | c.O_EXCL | c.O_NOFOLLOW, 0o644);
    } catch (err) {
      throw openError(err, this.caller, join(this.name, name), 'output file', true);
    }
    // rw-r--r-- as ubuntu-image's outputs, whatever the daemon's umask (its unit sets 0077)
    fchmodSync(fd, 0o644);
    return this.fileOf(name, temp, fd);
  }

  /** Opens again, as the caller, a temporary file of an earlier run (a resumed build); undefined when it is gone. */
  reopen(name: string, temp: string): OutputFile | undefined {
    if (!singleName(name) || !singleName(temp)) return undefined;
    let fd: number;
    try {
      fd = openAt(identityOf(this.caller), this.fd, temp, c.O_RDWR | c.O_NOFOLLOW | c.O_NONBLOCK);
    } catch {
      return undefined;
    }
    if (!fstatSync(fd).isFile()) {
      closeSync(fd);
      return undefined;
    }
    return this.fileOf(name, temp, fd);
  }

  private fileOf(name: string, temp: string, fd: number): OutputFile {
    let open = true;
    return {
      name,
      temp,
      fd,
      path: fdPath(fd),
      close: () => {
        if (open) closeSync(fd);
        open = false;
      },
    };
  }

  /** Gives the file its name, replacing what had that name (as the caller could), within this directory only. */
  commit(file: OutputFile): void {
    try {
      renameAt(identityOf(this.caller), this.fd, file.temp, this.fd, file.name);
    } catch (err) {
      throw openError(err, this.caller, join(this.name, file.name), 'output file', true);
    }
  }

  /** Removes a temporary file (as the caller); a file already gone is fine. */
  discard(temp: string): void {
    if (!singleName(temp)) return;
    try {
      unlinkAt(identityOf(this.caller), this.fd, temp);
    } catch {
      // gone already, or never made
    }
  }

  close(): void {
    closeSync(this.fd);
  }
}

/**
 * A work directory the daemon makes inside a directory the caller names
 * (`-w DIR`): created as the caller (so the caller must be allowed to), then
 * taken over, root-owned and 0700, so nothing the daemon writes in it can be
 * redirected by the caller while the build runs. Used through its fd.
 */
export class PrivateDir {
  private constructor(
    readonly parent: string,
    readonly name: string,
    readonly fd: number,
    readonly dev: number,
    readonly ino: number,
  ) {}

  get path(): string {
    return fdPath(this.fd);
  }

  /** Makes `parent/name` (parent made as the caller if missing) and takes it over. */
  static create(caller: Caller, parent: string, name: string, what: string): PrivateDir {
    const dir = OutputDir.open(caller, parent, what);
    try {
      try {
        mkdirAt(identityOf(caller), dir.fd, name, 0o700);
      } catch (err) {
        throw openError(err, caller, join(parent, name), what, true);
      }
      const fd = openAt(null, dir.fd, name, c.O_RDONLY | c.O_DIRECTORY | c.O_NOFOLLOW);
      const st = fstatSync(fd);
      if (st.uid !== caller.uid) {
        closeSync(fd);
        throw callerError('permission-denied', `cannot use ${what} ${join(parent, name)}: it changed while it was being made; try again`, join(parent, name));
      }
      fchownSync(fd, 0, 0);
      fchmodSync(fd, 0o700);
      return new PrivateDir(parent, name, fd, st.dev, st.ino);
    } finally {
      dir.close();
    }
  }

  /** Opens again a directory made by `create` (a resumed build): it must still be the daemon's, the same inode. */
  static reopen(caller: Caller, parent: string, name: string, expect: { dev: number; ino: number }, what: string): PrivateDir {
    const dir = OutputDir.open(caller, parent, what, { create: false });
    try {
      let fd: number;
      try {
        fd = openAt(null, dir.fd, name, c.O_RDONLY | c.O_DIRECTORY | c.O_NOFOLLOW);
      } catch (err) {
        throw openError(err, caller, join(parent, name), what);
      }
      const st = fstatSync(fd);
      if (st.dev !== expect.dev || st.ino !== expect.ino || st.uid !== 0 || (st.mode & 0o777) !== 0o700) {
        closeSync(fd);
        throw callerError(
          'permission-denied',
          `cannot use ${what} ${join(parent, name)}: it is not the directory coreforged made there (it was moved, replaced or handed over); start again without --resume`,
          join(parent, name),
        );
      }
      return new PrivateDir(parent, name, fd, st.dev, st.ino);
    } finally {
      dir.close();
    }
  }

  /**
   * Gives the tree to the caller (`chown -R`, symlinks not followed): every
   * entry first, the directory itself last, so the caller can touch nothing
   * inside before the daemon is done with it.
   */
  async handOver(caller: Caller): Promise<void> {
    const walk = async (dir: string): Promise<void> => {
      for (const entry of await readdir(dir, { withFileTypes: true })) {
        const p = join(dir, entry.name);
        if (entry.isDirectory()) await walk(p);
        await lchown(p, caller.uid, caller.gid);
      }
    };
    await walk(this.path);
    fchownSync(this.fd, caller.uid, caller.gid);
    fchmodSync(this.fd, 0o755);
  }

  /** Removes the tree, then the directory itself as the caller would (only if it is still this one). */
  async remove(caller: Caller): Promise<void> {
    for (const entry of await readdir(this.path)) await rm(join(this.path, entry), { recursive: true, force: true });
    const dir = OutputDir.open(caller, this.parent, 'work directory', { create: false });
    try {
      const st = await lstat(join(dir.path, this.name)).catch(() => undefined);
      if (st && st.dev === this.dev && st.ino === this.ino) unlinkAt(identityOf(caller), dir.fd, this.name, c.AT_REMOVEDIR);
    } finally {
      dir.close();
    }
  }

  close(): void {
    closeSync(this.fd);
  }
}
