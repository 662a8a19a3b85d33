/** File-system side effects: atomic writes, lock files, and turning OS errors into readable ones. */
import { randomBytes } from 'node:crypto';
import { chown, mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ccError, CoreforgeError } from './errors.js';

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

/** Writes `path` through a temporary file and a rename, so readers never see half a file. */
export async function atomicWrite(path: string, data: string, opts: WriteOpts): Promise<void> {
  const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await mkdir(dirname(path), { recursive: true });
    const fh = await open(tmp, 'wx', opts.mode);
    try {
      await fh.writeFile(data);
      await fh.chmod(opts.mode);
      if (opts.uid !== undefined) await chownMaybe(tmp, opts.uid, opts.gid ?? opts.uid);
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

/** chown that only insists when running as root (unprivileged runs prepare trees for fakeroot). */
export async function chownMaybe(path: string, uid: number, gid: number): Promise<void> {
  try {
    await chown(path, uid, gid);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if ((code === 'EPERM' || code === 'EINVAL') && process.getuid?.() !== 0) return;
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
