import { createHash } from 'node:crypto';
import { lstat, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { imageError } from '../errors.js';
import { iecString } from '../gadget/quantity.js';
import type { Exec } from './exec.js';

/**
 * Edge module: builds filesystems rootless and in place inside a volume
 * image, with no partition file in between: `mkfs.vfat --offset` + `mcopy
 * -i IMG@@OFFSET`, and `mkfs.ext4 -E offset= -d TREE` under fakeroot with
 * the feature set snapd and ubuntu-image pin for old kernels and
 * bootloaders (`-T default -O ^metadata_csum,^64bit,uninit_bg`). UUIDs,
 * volume ids, hash seeds and timestamps come from the build seed and epoch,
 * so the same inputs give the same bytes.
 */

export interface FilesystemSpec {
  imagePath: string;
  offset: number;
  size: number;
  label: string;
  /** Directories whose contents fill the filesystem, in order (later ones overwrite). */
  trees: string[];
  /** Seed for UUIDs and volume ids. */
  seed: string;
  /** Seconds since the epoch for every timestamp. */
  epoch: number;
  exec: Exec;
  signal?: AbortSignal;
  /** "structure #2 (\"EFI System\") of volume \"pc\"", for messages. */
  where: string;
}

/** A UUID derived from a seed and purpose (version-4 shaped). */
export function seededUuid(seed: string, purpose: string): string {
  const d = createHash('sha256').update(`coreforge-fs-uuid\0${seed}\0${purpose}`).digest();
  d[6] = (d[6]! & 0x0f) | 0x40;
  d[8] = (d[8]! & 0x3f) | 0x80;
  const h = d.subarray(0, 16).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/**
 * Bytes a tree needs at least: files rounded up to 4 KiB, plus 4 KiB per
 * directory. Symlinks count as themselves, or as the files they point at
 * with `followSymlinks` (vfat, which copies the file instead).
 */
export async function treeBytes(dir: string, followSymlinks = false): Promise<number> {
  let total = 4096;
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) total += await treeBytes(p, followSymlinks);
    else total += Math.ceil((followSymlinks && e.isSymbolicLink() ? await stat(p) : await lstat(p)).size / 4096) * 4096 || 4096;
  }
  return total;
}

/** Refuses content that cannot fit its structure before any tool runs. */
export async function checkFits(spec: FilesystemSpec, overhead: number, followSymlinks = false): Promise<void> {
  let need = 0;
  for (const t of spec.trees) need += await treeBytes(t, followSymlinks);
  if (need + overhead > spec.size) {
    throw imageError(
      'invalid-gadget-content',
      `cannot fit the content of ${spec.where}: its files need at least ${need + overhead} bytes (${iecString(need + overhead)}) but the structure is ${spec.size} bytes (${iecString(spec.size)}); raise the structure size in gadget.yaml or ship less content`,
    );
  }
}

/**
 * Makes a FAT filesystem at `offset` of the image and copies the trees into
 * it. Symlinks are followed (the seed links its snaps to their files, so the
 * snap bytes go from the source file straight into the image); every
 * timestamp is the epoch through SOURCE_DATE_EPOCH, as mcopy stamps what it
 * copies without -m.
 */
export async function buildVfat(spec: FilesystemSpec, fatBits: 16 | 32): Promise<void> {
  await checkFits(spec, Math.max(spec.size / 64, 64 * 1024), true);
  const volumeId = seededUuid(spec.seed, `vfat\0${spec.offset}`).replace(/-/g, '').slice(0, 8);
  const env = { SOURCE_DATE_EPOCH: String(spec.epoch), MTOOLS_SKIP_CHECK: '1', TZ: 'UTC' };
  const args = ['--invariant', '-F', String(fatBits), '-S', '512', '-s', '1', '-i', volumeId, `--offset=${spec.offset / 512}`];
  if (spec.label !== '') args.push('-n', spec.label);
  await spec.exec('mkfs.vfat', [...args, spec.imagePath, String(Math.floor(spec.size / 1024))], {
    env,
    signal: spec.signal,
    what: `make the vfat filesystem of ${spec.where}`,
  });
  for (const tree of spec.trees) {
    const entries = (await readdir(tree)).sort();
    if (entries.length === 0) continue;
    await spec.exec('mcopy', ['-i', `${spec.imagePath}@@${spec.offset}`, '-s', '-o', '-Q', ...entries.map((e) => join(tree, e)), '::/'], {
      env,
      signal: spec.signal,
      what: `copy the content of ${spec.where} into its vfat filesystem`,
    });
  }
}

/** Makes an ext4 filesystem at `offset` of the image, populated from one tree, owned by root, without root. */
export async function buildExt4(spec: FilesystemSpec): Promise<void> {
  if (spec.trees.length > 1) throw imageError('build-tool-failed', `cannot make the ext4 filesystem of ${spec.where}: internal error: more than one content tree`);
  const tree = spec.trees[0];
  if (tree !== undefined) await checkFits(spec, Math.max(spec.size / 16, 4 * 1024 * 1024));
  const uuid = seededUuid(spec.seed, `ext4\0${spec.offset}`);
  const hashSeed = seededUuid(spec.seed, `ext4-hash\0${spec.offset}`);
  const args = [
    'mkfs.ext4', '-F', '-q', '-T', 'default', '-O', '^metadata_csum,^64bit,uninit_bg',
    '-E', `offset=${spec.offset},root_owner=0:0,hash_seed=${hashSeed},nodiscard`,
    '-U', uuid,
  ];
  if (spec.label !== '') args.push('-L', spec.label);
  if (tree !== undefined) args.push('-d', tree);
  args.push(spec.imagePath, `${Math.floor(spec.size / 1024)}k`);
  const env = { E2FSPROGS_FAKE_TIME: String(spec.epoch), SOURCE_DATE_EPOCH: String(spec.epoch), TZ: 'UTC' };
  await spec.exec('fakeroot', args, { env, signal: spec.signal, what: `make the ext4 filesystem of ${spec.where}` });
  if (tree !== undefined) await pinExt4Times(spec, await countEntries(tree), env);
}

/** Entries (files, directories, symlinks) under `dir`: mke2fs -d numbers their inodes from 12 in walk order. */
async function countEntries(dir: string): Promise<number> {
  let n = 0;
  for (const e of await readdir(dir, { withFileTypes: true })) {
    n++;
    if (e.isDirectory()) n += await countEntries(join(dir, e.name));
  }
  return n;
}

/**
 * mke2fs copies each source file's times. The tree may hold hard links to
 * the caller's snap files, whose times the build must not change, and ctime
 * and atime cannot be set anyway: rewrite every copied inode's times to the
 * epoch with debugfs, so the same inputs give the same bytes.
 */
async function pinExt4Times(spec: FilesystemSpec, entries: number, env: Record<string, string>): Promise<void> {
  const inodes = [2, ...Array.from({ length: entries }, (_, i) => 12 + i)];
  const commands = inodes
    .flatMap((ino) => ['mtime', 'ctime', 'atime'].flatMap((field) => [`sif <${ino}> ${field} @${spec.epoch}`, `sif <${ino}> ${field}_extra 0`]))
    .join('\n');
  const dir = await mkdtemp(join(tmpdir(), 'coreforge-debugfs-'));
  try {
    await writeFile(join(dir, 'commands'), `${commands}\n`);
    await spec.exec('debugfs', ['-w', '-f', join(dir, 'commands'), `${spec.imagePath}?offset=${spec.offset}`], {
      env,
      signal: spec.signal,
      what: `set the timestamps of the ext4 filesystem of ${spec.where}`,
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
