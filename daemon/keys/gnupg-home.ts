import { constants } from 'node:fs';
import { mkdir, open, readdir, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { keysError } from './errors.js';

/**
 * Edge module: copies the keyring files of a gnupg home someone else controls
 * into a directory coreforged made, so gpg (run as root) never reads that
 * home's configuration (gpg.conf's agent-program, gpg-agent.conf, common.conf...)
 * nor follows its links. Only these files are read, each opened without
 * following a symlink and accepted only when it is a regular file of bounded
 * size; everything else in the home is ignored.
 */

/** Keyring files gpg 1 and 2 read at the top of a gnupg home (trustdb.gpg is not needed to export). */
export const keyringFileNames = ['pubring.kbx', 'pubring.gpg', 'secring.gpg'] as const;
/** gpg 2's secret key store: one KEYGRIP.key file per key. */
export const privateKeysDirName = 'private-keys-v1.d';
const keygripFile = /^[0-9A-F]{40}\.key$/;

/** Bounds on what an import copies out of a gnupg home. */
export const gnupgHomeLimits = {
  /** pubring.kbx, pubring.gpg, secring.gpg: a keyring of many keys with signatures stays well below */
  keyringBytes: 16 * 1024 * 1024,
  /** one private-keys-v1.d/*.key file: an RSA-4096 key is about 3 KiB */
  keyFileBytes: 64 * 1024,
  /** how many private-keys-v1.d/*.key files */
  keyFiles: 256,
};

const { O_RDONLY, O_NOFOLLOW, O_NONBLOCK, O_DIRECTORY } = constants;

const sizeText = (bytes: number) => (bytes >= 1024 * 1024 ? `${bytes / (1024 * 1024)} MiB` : `${bytes / 1024} KiB`);

/**
 * The path that opens `name` inside the directory open as `dir`, like openat(2):
 * /proc/self/fd/N is the directory itself, so a directory swapped for a link
 * after it was opened is never followed.
 */
const at = (dir: FileHandle, name: string) => `/proc/self/fd/${dir.fd}/${name}`;

/** Copies the keyring files of `home` into `dest` (an empty 0700 directory coreforged created). */
export async function copyGnupgKeyring(home: string, dest: string, what: string): Promise<void> {
  const refuse = (why: string) => keysError('invalid-gnupg-home', `cannot ${what} from gnupg home ${home}: ${why}`);
  const notPlain = (name: string, err: NodeJS.ErrnoException) =>
    err.code === 'ELOOP'
      ? refuse(`${name} is a symbolic link; coreforged follows no link in a gnupg home: give the directory that holds the real files`)
      : err.code === 'ENOTDIR'
        ? refuse(`${name} is not a directory (a file or a symbolic link); coreforged follows no link in a gnupg home: give the directory that holds the real files`)
        : refuse(`cannot open ${name} (${err.code ?? err.message}); check that it exists and can be read`);

  let homeDir: FileHandle;
  try {
    homeDir = await open(home, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT') throw refuse('it does not exist; give the gnupg home that holds the key, such as ~/.snap/gnupg');
    if (e.code === 'ENOTDIR' || e.code === 'ELOOP') {
      throw refuse('it is not a directory (or is a symbolic link); give the real path of the gnupg home directory');
    }
    throw notPlain('the directory', e);
  }
  try {
    let keyrings = 0;
    for (const name of keyringFileNames) {
      const data = await readRegularFile(homeDir, name, gnupgHomeLimits.keyringBytes, refuse, notPlain);
      if (data === undefined) continue;
      await writeNew(join(dest, name), data);
      keyrings++;
    }
    if (keyrings === 0) {
      throw keysError(
        'key-not-found',
        `cannot ${what} from gnupg home ${home}: it holds no keyring (${keyringFileNames.join(', ')}); give the gnupg home that holds the key, such as ~/.snap/gnupg`,
      );
    }
    await copyPrivateKeys(homeDir, join(dest, privateKeysDirName), refuse, notPlain);
  } finally {
    await homeDir.close();
  }
}

type Refuse = (why: string) => Error;
type NotPlain = (name: string, err: NodeJS.ErrnoException) => Error;

async function copyPrivateKeys(homeDir: FileHandle, dest: string, refuse: Refuse, notPlain: NotPlain): Promise<void> {
  let dir: FileHandle;
  try {
    dir = await open(at(homeDir, privateKeysDirName), O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT') return; // gpg 1 homes keep secret keys in secring.gpg
    throw notPlain(privateKeysDirName, e);
  }
  try {
    const names = (await readdir(`/proc/self/fd/${dir.fd}`)).filter((n) => keygripFile.test(n)).sort();
    if (names.length > gnupgHomeLimits.keyFiles) {
      throw refuse(
        `${privateKeysDirName} holds ${names.length} keys, more than the ${gnupgHomeLimits.keyFiles} coreforged reads; ` +
          'export the one key with "gpg --armor --export-secret-keys NAME" and import that file instead',
      );
    }
    await mkdir(dest, { mode: 0o700 });
    for (const name of names) {
      const path = `${privateKeysDirName}/${name}`;
      const data = await readRegularFile(dir, name, gnupgHomeLimits.keyFileBytes, refuse, (_n, e) => notPlain(path, e), path);
      if (data !== undefined) await writeNew(join(dest, name), data);
    }
  } finally {
    await dir.close();
  }
}

/**
 * Reads `name` inside `dir` when it is a regular file of at most `max` bytes;
 * undefined when it does not exist. O_NONBLOCK keeps a FIFO from blocking the open.
 */
async function readRegularFile(
  dir: FileHandle,
  name: string,
  max: number,
  refuse: Refuse,
  notPlain: NotPlain,
  shown = name,
): Promise<Buffer | undefined> {
  let file: FileHandle;
  try {
    file = await open(at(dir, name), O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT') return undefined;
    throw notPlain(shown, e);
  }
  try {
    const info = await file.stat();
    if (!info.isFile()) throw refuse(`${shown} is not a regular file; coreforged reads only regular files from a gnupg home`);
    const tooBig = () =>
      refuse(`${shown} is larger than ${sizeText(max)}; import from a gnupg home that holds only your signing keys, such as ~/.snap/gnupg`);
    if (info.size > max) throw tooBig();
    // read at most max + 1 bytes: a file that grows after the stat is still bounded
    const buf = Buffer.alloc(Math.min(info.size, max) + 1);
    let length = 0;
    for (;;) {
      const { bytesRead } = await file.read(buf, length, buf.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length > max) throw tooBig();
      if (length === buf.length) break;
    }
    return buf.subarray(0, length);
  } finally {
    await file.close();
  }
}

/** Writes a file that must not exist yet, 0600. */
async function writeNew(path: string, data: Buffer): Promise<void> {
  const handle = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | O_NOFOLLOW, 0o600);
  try {
    await handle.writeFile(data);
  } finally {
    await handle.close();
  }
}
