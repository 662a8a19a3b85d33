/**
 * File-system side effects: bounded reads of regular files, atomic no-follow
 * writes, directories set up through no-follow handles, lock files, and
 * turning OS errors into readable ones.
 */
import { randomBytes } from 'node:crypto';
import { constants, type Stats } from 'node:fs';
import { lstat, mkdir, open, readFile, readlink, rename, rm, stat, writeFile, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ccError, CoreforgeError } from './errors.js';
import { formatBytes } from './limits.js';

const { O_RDONLY, O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_NONBLOCK, O_DIRECTORY } = constants;

/** Turns an OS error while writing `path` into a write-failed error that says what to do. */
export function writeError(path: string, err: unknown): CoreforgeError {
  if (err instanceof CoreforgeError) return err;
  const code = (err as NodeJS.ErrnoException).code ?? 'error';
  const hint =
    code === 'EROFS'
      ? 'the file system is read-only; boot with a writable root or remount it read-write'
      : code === 'EACCES' || code === 'EPERM'
        ? 'permission denied; run console-conf as root and check for immutable files (lsattr)'
        : code === 'ENOSPC'
          ? 'the disk is full; free some space'
          : 'check the file system';
  return ccError('write-failed', `cannot write ${path}: ${code}; ${hint}`);
}

export interface WriteOpts {
  mode: number;
  uid?: number;
  gid?: number;
}

/**
 * Writes `path` through a temporary file and a rename, so readers never see
 * half a file. The temporary file is created exclusively and without following
 * a symlink, its mode and owner are set through its handle, and the rename
 * replaces whatever name `path` is without following it.
 */
export async function atomicWrite(path: string, data: string, opts: WriteOpts): Promise<void> {
  const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await mkdir(dirname(path), { recursive: true });
    const fh = await open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, opts.mode);
    try {
      await fh.writeFile(data);
      await fh.chmod(opts.mode);
      if (opts.uid !== undefined) await chownHandleMaybe(fh, opts.uid, opts.gid ?? opts.uid);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => {});
    throw writeError(path, err);
  }
}

/**
 * fchown that only insists when running as root (unprivileged runs prepare
 * trees for fakeroot); through a handle, so no symlink can redirect it.
 */
export async function chownHandleMaybe(fh: FileHandle, uid: number, gid: number): Promise<void> {
  try {
    await fh.chown(uid, gid);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if ((code === 'EPERM' || code === 'EINVAL') && process.getuid?.() !== 0) return;
    throw err;
  }
}

/** What a file that is not a regular file is, for messages: "a FIFO", "a symlink"... */
export function describeKind(s: Stats): string {
  if (s.isSymbolicLink()) return 'a symlink';
  if (s.isDirectory()) return 'a directory';
  if (s.isFIFO()) return 'a FIFO';
  if (s.isCharacterDevice()) return 'a character device';
  if (s.isBlockDevice()) return 'a block device';
  if (s.isSocket()) return 'a socket';
  return s.isFile() ? 'a regular file' : 'a special file';
}

/** Builds the caller's error from what is wrong with a file (`why`) and what to do (`fix`). */
export type FileProblem = (why: string, fix: string) => Error;

export interface ReadRegularOpts {
  maxBytes: number;
  /** follow a symlink at `path` (default: refuse it) */
  follow?: boolean;
  fail: FileProblem;
}

/**
 * Reads a regular file of at most `maxBytes` as UTF-8; undefined when it does
 * not exist. A FIFO (which would block), a device (/dev/zero never ends), a
 * directory, a symlink unless `follow`, and a file over the limit are refused
 * through `fail` before their content is read; the check is repeated on the
 * open handle (opened non-blocking), so a swap in between is caught too.
 */
export async function readRegular(path: string, opts: ReadRegularOpts): Promise<string | undefined> {
  const { maxBytes, follow = false, fail } = opts;
  const check = async (s: Stats) => {
    if (s.isSymbolicLink()) {
      const to = await readlink(path).catch(() => '?');
      throw fail(`it is a symlink (to ${to}), which console-conf does not follow here`, 'replace it with a regular file');
    }
    if (!s.isFile()) throw fail(`it is ${describeKind(s)}, not a regular file`, 'replace it with a regular file');
    if (s.size > maxBytes) throw fail(`it is ${s.size} bytes, over the limit of ${formatBytes(maxBytes)}`, 'make it smaller');
  };
  let st: Stats;
  try {
    st = follow ? await stat(path) : await lstat(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw err;
  }
  await check(st);
  const fh = await open(path, O_RDONLY | O_NONBLOCK | (follow ? 0 : O_NOFOLLOW));
  try {
    await check(await fh.stat());
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      // one byte more than the limit tells a file that grew since fstat
      const want = Math.min(64 * 1024, maxBytes + 1 - total);
      if (want <= 0) break;
      const { bytesRead, buffer } = await fh.read(Buffer.alloc(want), 0, want, null);
      if (bytesRead === 0) break;
      chunks.push(buffer.subarray(0, bytesRead));
      total += bytesRead;
    }
    if (total > maxBytes) throw fail(`it is over the limit of ${formatBytes(maxBytes)}`, 'make it smaller');
    return Buffer.concat(chunks).toString('utf8');
  } finally {
    await fh.close();
  }
}

export interface OwnDirOpts {
  mode: number;
  uid: number;
  gid: number;
  /** builds the error for an existing entry that cannot be used, from what is wrong with it */
  refuse: (why: string) => Error;
}

/**
 * Checks that an existing entry at `path` may be taken over as a directory of
 * `uid`: a plain directory (never a symlink, wherever it points) already owned
 * by `uid` or, in an unprivileged run that cannot chown, by the running user.
 * Undefined when nothing is there.
 */
export async function checkOwnDir(path: string, uid: number, refuse: (why: string) => Error): Promise<Stats | undefined> {
  const st = await lstatOrUndefined(path);
  if (!st) return undefined;
  const own = process.getuid?.();
  const owners = own === undefined || own === 0 ? [uid] : [uid, own];
  if (st.isSymbolicLink()) throw refuse(`it is a symlink (to ${await readlink(path).catch(() => '?')})`);
  if (!st.isDirectory()) throw refuse(`it is ${describeKind(st)}, not a directory`);
  if (!owners.includes(st.uid)) throw refuse(`it is owned by uid ${st.uid}, not by the new user (uid ${uid})`);
  return st;
}

/**
 * Makes `path` (whose parent must exist) a directory of `uid`:`gid` with
 * `mode`: created when missing, else taken over only when checkOwnDir()
 * allows it. Mode and owner are set through a handle opened without following
 * a symlink, after checking it is the very directory that was checked.
 */
export async function ensureOwnDir(path: string, opts: OwnDirOpts): Promise<void> {
  const { mode, uid, gid, refuse } = opts;
  const replaced = () => refuse('it was replaced while console-conf was setting it up');
  let st = await checkOwnDir(path, uid, refuse);
  if (!st) {
    try {
      await mkdir(path, { mode });
      st = await lstat(path); // ours, made just now
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      st = await checkOwnDir(path, uid, refuse); // someone else's after all
    }
    if (!st || st.isSymbolicLink() || !st.isDirectory()) throw replaced();
  }
  let fh: FileHandle;
  try {
    fh = await open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ELOOP' || code === 'ENOTDIR') throw replaced();
    throw err;
  }
  try {
    const now = await fh.stat();
    if (now.ino !== st.ino || now.dev !== st.dev) throw replaced();
    await fh.chmod(mode); // not left to the umask
    await chownHandleMaybe(fh, uid, gid);
  } finally {
    await fh.close();
  }
}

async function lstatOrUndefined(path: string): Promise<Stats | undefined> {
  try {
    return await lstat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Reads a text file, "" when it does not exist. */
export async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw err;
  }
}

/** True when `path` exists. */
export async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/**
 * Runs `fn` holding `FILE.lock` for each file, the shadow-utils convention (a
 * file holding the owner's pid; a lock whose pid is gone is stale and taken over).
 */
export async function withLocks<T>(files: string[], fn: () => Promise<T>, waitMs = 5000): Promise<T> {
  const taken: string[] = [];
  try {
    for (const f of files) {
      await takeLock(`${f}.lock`, waitMs);
      taken.push(`${f}.lock`);
    }
    return await fn();
  } finally {
    for (const l of taken.reverse()) await rm(l, { force: true }).catch(() => {});
  }
}

async function takeLock(lock: string, waitMs: number): Promise<void> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      await mkdir(dirname(lock), { recursive: true });
      await writeFile(lock, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw writeError(lock, err);
    }
    const pid = Number((await readText(lock)).trim());
    if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) {
      await rm(lock, { force: true });
      continue;
    }
    if (Date.now() > deadline) {
      throw ccError('db-locked', `cannot lock ${lock}: process ${pid} holds it; wait for it to finish and try again`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
