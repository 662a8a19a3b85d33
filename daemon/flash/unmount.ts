// Edge module: freeing a drive before it is opened exclusively.
import { flashError } from './errors.js';
import type { Exec } from './exec.js';
import { runProgram } from './exec.js';

interface LsblkNode {
  path: string;
  mountpoints?: (string | null)[];
  children?: LsblkNode[];
}

/** A filesystem mounted from a drive or one of its partitions. */
export interface Mount {
  /** The block device it is mounted from ("/dev/sdb1"). */
  device: string;
  mountpoint: string;
}

function collect(node: LsblkNode, out: Mount[]): void {
  for (const m of node.mountpoints ?? []) if (m) out.push({ device: node.path, mountpoint: m });
  for (const c of node.children ?? []) collect(c, out);
}

/** Current mounts of a drive and its partitions (and of anything stacked on them), from lsblk, each mountpoint once. */
export async function driveMounts(path: string, exec: Exec = runProgram): Promise<Mount[]> {
  const r = await exec('lsblk', ['-J', '-o', 'PATH,MOUNTPOINTS', path]);
  if (r.code !== 0) return [];
  const out: Mount[] = [];
  for (const node of (JSON.parse(r.stdout) as { blockdevices: LsblkNode[] }).blockdevices) collect(node, out);
  return out.filter((m, i) => out.findIndex((o) => o.mountpoint === m.mountpoint) === i);
}

/** Current mountpoints of a drive and its partitions (and of anything stacked on them), from lsblk. */
export async function driveMountpoints(path: string, exec: Exec = runProgram): Promise<string[]> {
  return (await driveMounts(path, exec)).map((m) => m.mountpoint);
}

/**
 * How to unmount: plain `umount`, or `systemd-umount` when the daemon runs as a
 * hardened systemd service, whose private mount namespace would otherwise only
 * lose its own copy of the mount while the host keeps the card busy.
 */
export type UnmountCommand = ['umount'] | ['systemd-umount'];

/**
 * Unmounts every filesystem on a drive, deepest first, reporting each one as
 * it goes (`onUnmounted`), and returns what it unmounted; throws 'drive-busy'
 * naming the mountpoint that stays.
 */
export async function unmountDrive(
  path: string,
  exec: Exec = runProgram,
  signal?: AbortSignal,
  command: UnmountCommand = ['umount'],
  onUnmounted?: (mount: Mount) => void,
): Promise<Mount[]> {
  const mounts = (await driveMounts(path, exec)).sort((a, b) => b.mountpoint.length - a.mountpoint.length);
  const done: Mount[] = [];
  for (const mount of mounts) {
    const m = mount.mountpoint;
    if (m === '[SWAP]') {
      throw flashError('drive-busy', `cannot flash ${path}: one of its partitions is in use as swap; turn it off with "swapoff" first`, { drive: path });
    }
    const r = await exec(command[0], [m], signal);
    if (r.code !== 0) {
      throw flashError('drive-busy', `cannot flash ${path}: ${m} on it cannot be unmounted (${r.stderr.trim() || `${command[0]} exited with status ${r.code}`}); close the programs using it and try again`, { drive: path, mountpoint: m, unmounted: done });
    }
    done.push(mount);
    onUnmounted?.(mount);
  }
  return done;
}
