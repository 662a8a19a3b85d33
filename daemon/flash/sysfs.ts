// Edge module: facts about block devices from /sys, which systeminformation and
// lsblk do not report (read-only flag, holders, logical block size).
import { readdir, readFile, realpath } from 'node:fs/promises';
import { basename, dirname } from 'node:path';

/** Where sysfs is mounted; tests of pure callers never need it, real-device tests use the real one. */
const sysRoot = '/sys';

/** "MAJ:MIN" of a device number as the kernel prints it (glibc's major()/minor() split). */
export function deviceNumber(rdev: bigint): string {
  const major = ((rdev & 0xfff00n) >> 8n) | ((rdev & 0xfffff00000000000n) >> 32n);
  const minor = (rdev & 0xffn) | ((rdev & 0xffffff00000n) >> 12n);
  return `${major}:${minor}`;
}

async function attribute(dir: string, name: string): Promise<string | null> {
  try {
    return (await readFile(`${dir}/${name}`, 'utf8')).trim();
  } catch {
    return null;
  }
}

/** What sysfs says about one block device. */
export interface SysBlockFacts {
  /** Kernel name: "sda", "loop3", "mmcblk0p1". */
  name: string;
  /** "MAJ:MIN". */
  dev: string;
  size: number;
  readOnly: boolean;
  removable: boolean;
  /** Set for a partition: the kernel name of the whole drive it belongs to. */
  parent: string | null;
  logicalBlockSize: number;
  holders: string[];
  vendor: string;
  serial: string;
  /** The backing file of a loop device. */
  backingFile: string | null;
}

/** Reads a block device's facts by its kernel name or "MAJ:MIN"; null when the kernel has no such device (removed). */
export async function sysBlockFacts(nameOrDev: string): Promise<SysBlockFacts | null> {
  const link = /^\d+:\d+$/.test(nameOrDev) ? `${sysRoot}/dev/block/${nameOrDev}` : `${sysRoot}/class/block/${nameOrDev}`;
  let dir: string;
  try {
    dir = await realpath(link);
  } catch {
    return null;
  }
  const dev = await attribute(dir, 'dev');
  if (dev === null) return null;
  const isPartition = (await attribute(dir, 'partition')) !== null;
  const whole = isPartition ? dirname(dir) : dir;
  const sectors = Number((await attribute(dir, 'size')) ?? '0');
  let holders: string[] = [];
  try {
    holders = await readdir(`${dir}/holders`);
  } catch {
    holders = [];
  }
  return {
    name: basename(dir),
    dev,
    size: sectors * 512,
    readOnly: (await attribute(dir, 'ro')) === '1',
    removable: (await attribute(whole, 'removable')) === '1',
    parent: isPartition ? basename(whole) : null,
    logicalBlockSize: Number((await attribute(whole, 'queue/logical_block_size')) ?? '512') || 512,
    holders,
    vendor: (await attribute(whole, 'device/vendor')) ?? '',
    serial: (await attribute(whole, 'device/serial')) ?? '',
    backingFile: await attribute(whole, 'loop/backing_file'),
  };
}

/** Kernel names of a drive's partitions ("sda1", "loop0p2"). */
export async function sysPartitions(name: string): Promise<string[]> {
  try {
    const entries = await readdir(`${sysRoot}/class/block/${name}`);
    const out: string[] = [];
    for (const e of entries) if (e.startsWith(name) && (await attribute(`${sysRoot}/class/block/${name}/${e}`, 'partition')) !== null) out.push(e);
    return out.sort();
  } catch {
    return [];
  }
}
