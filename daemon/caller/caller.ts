import type { Socket } from 'node:net';
import { CoreforgeError } from '../errors.js';
import { peerCredentials, type PeerCredentials } from './native.js';

/**
 * Who sent a request: the uid, gid and groups the kernel recorded for the
 * process at the other end of the API socket when it connected. Decisions
 * (root-only operations, whose rights a path is used with, whose changes a
 * client may see) are made on this, never on anything the request says.
 */
export type Caller = PeerCredentials;

export type CallerErrorKind =
  /** The operation changes what the daemon trusts or administers the store: root only. */
  | 'root-required'
  /** The change belongs to another user. */
  | 'not-owner'
  /** A path the request names does not exist. */
  | 'file-not-found'
  /** The caller may not read (or write) a path the request names. */
  | 'permission-denied'
  /** A path names something other than a regular file (a FIFO, a device, a directory...). */
  | 'not-a-regular-file'
  /** A file is larger than the daemon reads for that purpose. */
  | 'file-too-large';

/** The daemon's own identity, for work it does on its own behalf (start-up, tests of libraries). */
export const daemonCaller: Caller = { pid: process.pid, uid: process.geteuid?.() ?? 0, gid: process.getegid?.() ?? 0, groups: [] };

export const isRoot = (caller: Caller): boolean => caller.uid === 0;

const known = new WeakMap<Socket, Caller>();

/** The peer of a connection on the API's Unix socket, asked of the kernel once per connection. */
export function callerOfSocket(socket: Socket): Caller {
  let caller = known.get(socket);
  if (caller) return caller;
  const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) throw new Error('cannot identify the caller: the connection has no file descriptor (not a Unix socket)');
  caller = peerCredentials(fd);
  known.set(socket, caller);
  return caller;
}

/**
 * Refuses an operation to anyone but root: what changes the daemon's trust or
 * administers the store, as snapd keeps `snap ack` for root.
 */
export function requireRoot(caller: Caller, what: string, fix: string): void {
  if (isRoot(caller)) return;
  throw new CoreforgeError<CallerErrorKind>(
    'root-required',
    `cannot ${what}: only root may do this (you are uid ${caller.uid}); ${fix}`,
  );
}

/** A change (its data, log, progress, abort) is its owner's and root's; one from before owners were recorded is root's. */
export function mayUseChange(caller: Caller, owner: number | null): boolean {
  return isRoot(caller) || (owner !== null && owner === caller.uid);
}
