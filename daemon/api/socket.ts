import { chmod, chown, lstat, readFile, stat, unlink } from 'node:fs/promises';
import { connect } from 'node:net';
import type { Server } from 'node:http';
import { dirname } from 'node:path';
import { CoreforgeError } from '../errors.js';

export type SocketErrorKind =
  /** The socket's directory does not exist. */
  | 'socket-dir-missing'
  /** Another coreforged answers on the socket. */
  | 'daemon-already-running'
  /** Something that is not a socket sits at the socket path. */
  | 'socket-path-taken'
  /** Binding failed for another reason (permissions...). */
  | 'socket-unavailable';

/** First fd systemd passes (SD_LISTEN_FDS_START). */
const systemdFirstFd = 3;

/** The listening fd systemd handed over by socket activation, if it was meant for this process. */
export function activatedSocketFd(env: NodeJS.ProcessEnv, pid: number): number | null {
  if (env.LISTEN_PID === undefined || Number(env.LISTEN_PID) !== pid) return null;
  return Number(env.LISTEN_FDS ?? 0) >= 1 ? systemdFirstFd : null;
}

function isAnswering(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}

const alreadyRunning = (path: string) =>
  new CoreforgeError<SocketErrorKind>(
    'daemon-already-running',
    `cannot listen on ${path}: another coreforged is already serving this socket; stop it first (systemctl stop coreforged) or pass a different --socket`,
  );

/**
 * Makes the socket path usable: its directory must exist, a live socket means
 * another daemon (refuse), a dead one is a leftover from a crash (remove it).
 */
export async function claimSocketPath(path: string): Promise<void> {
  const dir = dirname(path);
  try {
    if (!(await stat(dir)).isDirectory()) throw new Error('not a directory');
  } catch {
    throw new CoreforgeError<SocketErrorKind>(
      'socket-dir-missing',
      `cannot listen on ${path}: directory ${dir} does not exist; create it (mkdir -p ${dir}) or pass --socket with a path in an existing directory`,
    );
  }
  let info;
  try {
    info = await lstat(path);
  } catch {
    return;
  }
  if (!info.isSocket()) {
    throw new CoreforgeError<SocketErrorKind>(
      'socket-path-taken',
      `cannot listen on ${path}: a file that is not a socket is in the way; remove it or pass a different --socket`,
    );
  }
  if (await isAnswering(path)) throw alreadyRunning(path);
  await unlink(path);
}

async function groupId(name: string): Promise<number | null> {
  try {
    const line = (await readFile('/etc/group', 'utf8')).split('\n').find((l) => l.startsWith(`${name}:`));
    return line ? Number(line.split(':')[2]) : null;
  } catch {
    return null;
  }
}

/**
 * Listens on a Unix socket created 0660 from the start (umask, not a later
 * chmod, so there is no window where anyone may connect), owned by group
 * `coreforge` when that group exists: the socket is the trust boundary.
 */
export async function listenOnPath(server: Server, path: string, group = 'coreforge'): Promise<void> {
  await claimSocketPath(path);
  const previous = process.umask(0o117);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EADDRINUSE') throw alreadyRunning(path);
    throw new CoreforgeError<SocketErrorKind>('socket-unavailable', `cannot listen on ${path}: ${e.message}; check the directory's permissions or pass a different --socket`);
  } finally {
    process.umask(previous);
  }
  await chmod(path, 0o660);
  const gid = await groupId(group);
  if (gid !== null) await chown(path, -1, gid).catch(() => {});
}

/** Listens on the fd systemd passed; the socket file belongs to systemd and is left alone. */
export function listenOnFd(server: Server, fd: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ fd }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
