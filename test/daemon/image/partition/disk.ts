import { spawnSync } from 'node:child_process';
import { mkdtempSync, openSync, closeSync, ftruncateSync, writeSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ByteWrite } from '../../../../daemon/image/byte-write.js';

/** Test helpers: sparse image files with partition tables written in, read back with sfdisk. */

export interface SfdiskPartition {
  node: string;
  start: number;
  size: number;
  type: string;
  uuid?: string;
  name?: string;
  bootable?: boolean;
  attrs?: string;
}

export interface SfdiskTable {
  label: 'dos' | 'gpt';
  id: string;
  firstlba?: number;
  lastlba?: number;
  sectorsize: number;
  partitions: SfdiskPartition[];
}

/** A temporary directory removed by the returned cleanup function. */
export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'coreforge-disk-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Creates a sparse file of `size` bytes with the writes applied. */
export function writeImage(path: string, size: number, writes: readonly ByteWrite[]): void {
  const fd = openSync(path, 'w');
  try {
    ftruncateSync(fd, size);
    for (const w of writes) writeSync(fd, w.data, 0, w.data.length, w.offset);
  } finally {
    closeSync(fd);
  }
}

function run(cmd: string, args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return { status: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

const sfdiskHasSectorSize = run('sfdisk', ['--help']).stdout.includes('--sector-size');

function loopDevicesWork(): boolean {
  if (process.getuid?.() !== 0) return false;
  const { dir, cleanup } = tempDir();
  try {
    const file = join(dir, 'probe.img');
    writeImage(file, 1 << 20, []);
    const r = run('losetup', ['-f', '--show', '-b', '4096', file]);
    if (r.status !== 0) return false;
    run('losetup', ['-d', r.stdout.trim()]);
    return true;
  } finally {
    cleanup();
  }
}

const canUseLoop = !sfdiskHasSectorSize && loopDevicesWork();

/** Why 4096-byte sector tables cannot be read here, or undefined when they can. */
export const skip4096: string | false = sfdiskHasSectorSize || canUseLoop
  ? false
  : 'needs sfdisk --sector-size (util-linux 2.39+) or loop devices (root, losetup -b 4096) to read 4096-byte-sector tables';

/** Runs sfdisk with the image seen with the given sector size (directly, or through a loop device). */
export function sfdisk(path: string, sectorSize: 512 | 4096, args: string[]): { status: number; stdout: string; stderr: string } {
  if (sectorSize === 512) return run('sfdisk', [...args, path]);
  if (sfdiskHasSectorSize) return run('sfdisk', ['--sector-size', '4096', ...args, path]);
  const loop = run('losetup', ['-f', '--show', '-b', '4096', path]);
  if (loop.status !== 0) throw new Error(`losetup failed: ${loop.stderr}`);
  const device = loop.stdout.trim();
  try {
    return run('sfdisk', [...args, device]);
  } finally {
    run('losetup', ['-d', device]);
  }
}

/** Reads a partition table back with `sfdisk --json`. */
export function readTable(path: string, sectorSize: 512 | 4096): SfdiskTable {
  const r = sfdisk(path, sectorSize, ['--json']);
  if (r.status !== 0) throw new Error(`sfdisk --json failed: ${r.stderr}`);
  return (JSON.parse(r.stdout) as { partitiontable: SfdiskTable }).partitiontable;
}

/** Runs `sfdisk --verify`; returns its exit status and combined output. */
export function verifyTable(path: string, sectorSize: 512 | 4096): { status: number; output: string } {
  const r = sfdisk(path, sectorSize, ['--verify']);
  return { status: r.status, output: r.stdout + r.stderr };
}
