// Edge module: freeing a drive before it is opened exclusively.
import { flashError } from './errors.js';
import type { Exec } from './exec.js';
import { runProgram } from './exec.js';

interface LsblkNode {
  path: string;
  mountpoints?: (string | null)[];
  children?: LsblkNode[];
}

function collect(node: LsblkNode, out: string[]): void {
  for (const m of node.mountpoints ?? []) if (m) out.push(m);
  for (const c of node.children ?? []) collect(c, out);
}

/** Current mountpoints of a drive and its partitions (and of anything stacked on them), from lsblk. */
export async function driveMountpoints(path: string, exec: Exec = runProgram): Promise<string[]> {
  const r = await exec('lsblk', ['-J', '-o', 'PATH,MOUNTPOINTS', path]);
  if (r.code !== 0) return [];
  const out: string[] = [];
  for (const node of (JSON.parse(r.stdout) as { blockdevices: LsblkNode[] }).blockdevices) collect(node, out);
  return [...new Set(out)];
}

/**
 * How to unmount: plain `umount`, or `systemd-umount` when the daemon runs as a
 * hardened systemd service, whose private mount namespace would otherwise only
 * lose its own copy of the mount while the host keeps the card busy.
 */
export type UnmountCommand = ['umount'] | ['systemd-umount'];

/** Unmounts every filesystem on a drive, deepest first; throws 'drive-busy' naming the mountpoint that stays. */
export async function unmountDrive(
  path: string,
  exec: Exec = runProgram,
  signal?: AbortSignal,
  command: UnmountCommand = ['umount'],
): Promise<string[]> {
  const mounts = (await driveMountpoints(path, exec)).sort((a, b) => b.length - a.length);
  for (const m of mounts) {
    if (m === '[SWAP]') {
      throw flashError('drive-busy', `cannot flash ${path}: one of its partitions is in use as swap; turn it off with "swapoff" first`, { drive: path });
    }
    const r = await exec(command[0], [m], signal);
    if (r.code !== 0) {
      throw flashError('drive-busy', `cannot flash ${path}: ${m} on it cannot be unmounted (${r.stderr.trim() || `${command[0]} exited with status ${r.code}`}); close the programs using it and try again`, { drive: path, mountpoint: m });
    }
  }
  return mounts;
}
