import { mkdir, open, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { CoreforgeError } from './errors.js';

export type StateDirErrorKind =
  /** The state directory cannot be created or written. */
  'state-dir-unusable';

/**
 * Creates the state directory (0700) and proves it is writable by writing a
 * probe file, since access() says yes to root even on a read-only mount.
 */
export async function prepareStateDir(dir: string): Promise<void> {
  const fail = (why: string) =>
    new CoreforgeError<StateDirErrorKind>(
      'state-dir-unusable',
      `cannot use state dir ${dir}: ${why}; run coreforged as a user that can write it, or pass --state-dir with another directory`,
    );
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    if (!(await stat(dir)).isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw fail(e.code === 'ENOTDIR' || e.code === 'EEXIST' ? 'it is not a directory' : `${e.code ?? 'error'} (${e.message})`);
  }
  const probe = join(dir, `.write-probe-${process.pid}`);
  try {
    const handle = await open(probe, 'w', 0o600);
    await handle.close();
    await unlink(probe);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw fail(`it is not writable (${e.code ?? e.message})`);
  }
}
