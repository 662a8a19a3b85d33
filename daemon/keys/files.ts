import { randomBytes } from 'node:crypto';
import { chmod, link, mkdir, open, readFile, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { keysError } from './errors.js';

/** Creates the keys directory 0700 (and tightens it if it already existed). */
export async function prepareKeysDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  if (((await stat(dir)).mode & 0o077) !== 0) await chmod(dir, 0o700);
}

/**
 * Writes a key file 0600 under a temporary name, syncs it, then links it into
 * place: link() fails when the name is taken, so a key is never overwritten
 * (rename() would replace it silently).
 */
export async function writeKeyFile(dir: string, fileName: string, text: string): Promise<string> {
  const final = join(dir, fileName);
  const temp = join(dir, `.${fileName}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temp, 'wx', 0o600);
  try {
    await handle.writeFile(text, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await link(temp, final);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw keysError('key-exists', `cannot store key: file ${final} already exists; coreforge never overwrites a key file, move it aside first`);
    }
    throw err;
  } finally {
    await unlink(temp).catch(() => {});
  }
  const dirHandle = await open(dir, 'r');
  await dirHandle.sync().catch(() => {});
  await dirHandle.close();
  return final;
}

export function readKeyFile(path: string): Promise<string> {
  return readFile(path, 'utf8');
}

/** Removes a key file; a file already gone is not an error. */
export async function removeKeyFile(path: string): Promise<void> {
  await unlink(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
  });
}
