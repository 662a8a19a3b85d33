import { constants } from 'node:fs';
import { copyFile, link, lstat, mkdir, readdir, symlink, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { encodeAssertion } from '../../asserts/index.js';
import { imageError } from '../errors.js';
import { copySnapContent, readSnapFile } from '../gadget/content-check.js';
import type { Bootloader } from '../gadget/index.js';
import { encodeGrubEnv, updateUbootEnv } from './bootenv.js';
import type { VerifiedModel } from './model.js';
import type { PlannedSnap } from './resolve.js';
import type { SourcedSnap } from './snap-source.js';

/**
 * Edge module: writes the seed the way snapd's seedwriter and boot packages
 * do. UC16/18: `var/lib/snapd/seed/{snaps,assertions,seed.yaml}` in the
 * system-data tree, the boot snaps linked from `var/lib/snapd/snaps/`, and
 * the bootloader environment staged for the system-boot partition (grub:
 * `EFI/ubuntu/grubenv`, u-boot: `uboot.env` plus the extracted kernel
 * assets), where ubuntu-image moves them. UC20+: `systems/LABEL/` and
 * `snaps/` in the ubuntu-seed tree with the recovery grubenv; for a vfat
 * ubuntu-seed the snaps there are symlinks to the snap files, which the
 * vfat builder follows.
 */

export interface SeedSnap {
  planned: PlannedSnap;
  sourced: SourcedSnap;
}

export interface SeedInput {
  model: VerifiedModel;
  snaps: SeedSnap[];
  bootloader: Bootloader | '';
  /** The unpacked gadget and kernel snaps. */
  gadgetDir: string;
  kernelDir: string;
}

/** snapd's type order for seed.yaml (snap/types.go typeOrder). */
const typeOrder: Record<string, number> = { snapd: 0, os: 10, kernel: 20, base: 30, gadget: 40, app: 50 };

/** Sorts seed snaps by type as seedwriter does (stable: same type keeps its order). */
export function sortByType(snaps: readonly SeedSnap[]): SeedSnap[] {
  return snaps
    .map((s, i) => ({ s, i }))
    .sort((a, b) => (typeOrder[a.s.sourced.info.type] ?? 50) - (typeOrder[b.s.sourced.info.type] ?? 50) || a.i - b.i)
    .map(({ s }) => s);
}

/** snapd's file name of a seeded snap: NAME_REVISION.snap. */
export function seedFileName(s: SourcedSnap): string {
  return `${s.info.name}_${s.revision}.snap`;
}

/**
 * Puts a snap file into a seed tree without copying its bytes where it can:
 * a hard link on the same filesystem (mkfs.ext4 -d reads it like any file,
 * and nothing in the build writes to it or its times), else a reflink or a
 * copy. The filesystem tools copy the bytes into the image once.
 */
async function placeSnap(src: string, dst: string): Promise<void> {
  try {
    await link(src, dst);
  } catch (err) {
    // EXDEV: another filesystem; EPERM: fs.protected_hardlinks and a file of another owner
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'EMLINK' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw err;
    await copyFile(src, dst, constants.COPYFILE_FICLONE);
  }
}

function yamlScalar(v: string): string {
  return /^[A-Za-z0-9._/-]+$/.test(v) && !/^(true|false|yes|no|null|on|off|~)$/i.test(v) && !/^[0-9.]+$/.test(v) ? v : JSON.stringify(v);
}

/** seed.yaml text as snapd's Seed16 marshals it (go-yaml: sequence items not indented). */
export function seed16Yaml(snaps: readonly SeedSnap[]): string {
  let out = 'snaps:\n';
  for (const { planned, sourced } of sortByType(snaps)) {
    const unasserted = sourced.snapId === '';
    out += `- name: ${yamlScalar(sourced.info.name)}\n`;
    if (sourced.snapId !== '') out += `  snap-id: ${yamlScalar(sourced.snapId)}\n`;
    if (!unasserted && planned.channel !== '') out += `  channel: ${yamlScalar(planned.channel)}\n`;
    if (unasserted) out += '  unasserted: true\n';
    out += `  file: ${yamlScalar(seedFileName(sourced))}\n`;
  }
  return out;
}

/** The file name seedwriter gives an assertion: its reduced primary key joined by commas, then its type (seed16.go). */
function assertionFileName16(text: string): string {
  const type = /^type: (.*)$/m.exec(text)?.[1] ?? 'assertion';
  const header = (name: string) => new RegExp(`^${name}: (.*)$`, 'm').exec(text)?.[1] ?? '';
  switch (type) {
    case 'account':
      return `${header('account-id')}.account`;
    case 'account-key':
      return `${header('public-key-sha3-384')}.account-key`;
    case 'snap-declaration':
      return `${header('series')},${header('snap-id')}.snap-declaration`;
    case 'snap-revision':
      return `${header('snap-sha3-384')}.snap-revision`;
    default:
      return `${type}.${type}`;
  }
}

async function exists(path: string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    () => false,
  );
}

function findRole(snaps: readonly SeedSnap[], ...types: string[]): SeedSnap | undefined {
  return snaps.find((s) => types.includes(s.sourced.info.type) && !s.planned.extra);
}

/** Copies the files of `srcDir` matching the u-boot kernel asset names into `dstDir` (bootloader.go extractKernelAssetsToBootDir). */
async function extractUbootKernelAssets(kernelDir: string, dstDir: string): Promise<void> {
  await mkdir(dstDir, { recursive: true });
  for (const name of ['kernel.img', 'initrd.img']) {
    if (!(await exists(join(kernelDir, name)))) continue; // snapd skips assets the kernel does not ship
    await copySnapContent(kernelDir, name, join(dstDir, name), 'kernel');
  }
  if (await exists(join(kernelDir, 'dtbs'))) await copySnapContent(kernelDir, 'dtbs', join(dstDir, 'dtbs'), 'kernel');
}

/** Writes the UC16/18 seed into `rootfs` and the bootloader files for system-boot into `bootDir`. */
export async function writeSeed16(input: SeedInput, rootfs: string, bootDir: string): Promise<void> {
  const seedDir = join(rootfs, 'var/lib/snapd/seed');
  const snapsDir = join(seedDir, 'snaps');
  const assertsDir = join(seedDir, 'assertions');
  await mkdir(snapsDir, { recursive: true });
  await mkdir(assertsDir, { recursive: true });
  await mkdir(bootDir, { recursive: true });
  await writeFile(join(assertsDir, 'model'), input.model.text);
  for (const a of input.model.prerequisites) {
    const text = encodeAssertion(a);
    await writeFile(join(assertsDir, assertionFileName16(text)), text);
  }
  for (const s of input.snaps) {
    await placeSnap(s.sourced.path, join(snapsDir, seedFileName(s.sourced)));
    for (const text of s.sourced.assertions) await writeFile(join(assertsDir, assertionFileName16(text)), text);
  }
  await writeFile(join(seedDir, 'seed.yaml'), seed16Yaml(input.snaps));

  const kernel = findRole(input.snaps, 'kernel');
  const base = input.model.info.base === '' ? findRole(input.snaps, 'os') : input.snaps.find((s) => s.sourced.info.name === input.model.info.base);
  if (!kernel || !base) throw imageError('invalid-snap-set', 'cannot make the image bootable: the seed has no kernel or boot base');
  const blobDir = join(rootfs, 'var/lib/snapd/snaps');
  await mkdir(blobDir, { recursive: true });
  for (const s of [base, kernel]) {
    const target = join(snapsDir, seedFileName(s.sourced));
    await symlink(relative(blobDir, target), join(blobDir, seedFileName(s.sourced)));
  }
  const vars: Record<string, string> = {
    snap_mode: '',
    snap_try_core: '',
    snap_try_kernel: '',
    snap_core: seedFileName(base.sourced),
    snap_kernel: seedFileName(kernel.sourced),
  };
  const displayName = input.model.assertion.headers['display-name'];
  if (typeof displayName === 'string' && displayName !== '') vars.snap_menuentry = displayName;

  if (input.bootloader === 'grub') {
    const ubuntuDir = join(bootDir, 'EFI/ubuntu');
    await mkdir(ubuntuDir, { recursive: true });
    if (!(await exists(join(input.gadgetDir, 'grub.conf')))) {
      throw imageError('invalid-gadget-content', 'cannot install the grub configuration: the gadget has no grub.conf; a grub gadget must ship grub.conf (it may be empty)');
    }
    await copySnapContent(input.gadgetDir, 'grub.conf', join(ubuntuDir, 'grub.cfg'), 'gadget');
    const order = ['snap_mode', 'snap_try_core', 'snap_try_kernel', 'snap_core', 'snap_kernel', 'snap_menuentry'];
    await writeFile(join(ubuntuDir, 'grubenv'), encodeGrubEnv(order.filter((k) => k in vars).map((k) => [k, vars[k]!])));
  } else if (input.bootloader === 'u-boot') {
    if (!(await exists(join(input.gadgetDir, 'uboot.conf')))) {
      throw imageError('invalid-gadget-content', 'cannot install the u-boot configuration: the gadget has no uboot.conf; a u-boot gadget must ship uboot.conf (an environment image made by mkenvimage)');
    }
    const env = await readSnapFile(input.gadgetDir, 'uboot.conf', 'gadget');
    await writeFile(join(bootDir, 'uboot.env'), updateUbootEnv(env, vars, 'uboot.conf of the gadget'));
    await extractUbootKernelAssets(input.kernelDir, join(bootDir, seedFileName(kernel.sourced)));
  } else {
    throw imageError('invalid-gadget', `cannot make a UC16/18 image bootable with bootloader "${input.bootloader}": coreforge supports grub and u-boot`);
  }
}

/** The options.yaml entries of a UC20+ seed: unasserted snaps and channel overrides (seed20.go writeMeta). */
function options20Yaml(snaps: readonly SeedSnap[]): string | undefined {
  const entries: string[] = [];
  for (const { planned, sourced } of snaps) {
    const unasserted = sourced.snapId === '';
    const override = !planned.extra && planned.channel !== planned.defaultChannel ? planned.channel : '';
    if (!planned.extra && !unasserted && override === '') continue;
    let e = `- name: ${yamlScalar(sourced.info.name)}\n`;
    const id = planned.extra ? sourced.snapId : planned.snapId;
    if (id !== '') e += `  id: ${yamlScalar(id)}\n`;
    if (unasserted) e += `  unasserted: ${yamlScalar(`${sourced.info.name}_${sourced.info.version}.snap`)}\n`;
    const channel = planned.extra ? (unasserted ? '' : planned.channel) : override;
    if (channel !== '') e += `  channel: ${yamlScalar(channel)}\n`;
    entries.push(e);
  }
  return entries.length === 0 ? undefined : `snaps:\n${entries.join('')}`;
}

/** Writes the UC20+ seed (systems/LABEL, snaps/, recovery bootloader env) into the ubuntu-seed tree. */
export async function writeSeed20(input: SeedInput, seedRoot: string, label: string, how: { linkSnaps?: boolean } = {}): Promise<void> {
  const systemDir = join(seedRoot, 'systems', label);
  const assertsDir = join(systemDir, 'assertions');
  await mkdir(join(seedRoot, 'snaps'), { recursive: true });
  await mkdir(assertsDir, { recursive: true });
  await writeFile(join(systemDir, 'model'), input.model.text);
  await writeFile(join(assertsDir, 'model-etc'), input.model.prerequisites.map((a) => encodeAssertion(a)).join('\n'));
  const model = input.snaps.filter((s) => !s.planned.extra);
  const extra = input.snaps.filter((s) => s.planned.extra);
  await writeFile(join(assertsDir, 'snaps'), model.flatMap((s) => s.sourced.assertions).join('\n'));
  if (extra.length > 0) await writeFile(join(assertsDir, 'extra-snaps'), extra.flatMap((s) => s.sourced.assertions).join('\n'));
  for (const s of input.snaps) {
    const unasserted = s.sourced.snapId === '';
    const dir = unasserted || s.planned.extra ? join(systemDir, 'snaps') : join(seedRoot, 'snaps');
    await mkdir(dir, { recursive: true });
    const name = unasserted ? `${s.sourced.info.name}_${s.sourced.info.version}.snap` : seedFileName(s.sourced);
    // On vfat the builder follows a link and copies the snap from its own file into the image, once.
    if (how.linkSnaps) await symlink(resolve(s.sourced.path), join(dir, name));
    else await placeSnap(s.sourced.path, join(dir, name));
  }
  const options = options20Yaml(input.snaps);
  if (options !== undefined) {
    if (input.model.info.grade !== 'dangerous') {
      throw imageError('invalid-snap-set', `internal error: unexpected non-model snap overrides with grade ${input.model.info.grade}`);
    }
    await writeFile(join(systemDir, 'options.yaml'), options);
  }
  if (input.bootloader === 'grub') {
    const ubuntuDir = join(seedRoot, 'EFI/ubuntu');
    await mkdir(ubuntuDir, { recursive: true });
    // snapd falls back to its built-in recovery grub.cfg for managed gadgets; the gadget's grub.conf stands in here
    const recovery = ['grub-recovery.conf', 'grub.conf'];
    for (const name of recovery) {
      if (!(await exists(join(input.gadgetDir, name)))) continue;
      await copySnapContent(input.gadgetDir, name, join(ubuntuDir, 'grub.cfg'), 'gadget');
      break;
    }
    await writeFile(
      join(ubuntuDir, 'grubenv'),
      encodeGrubEnv([
        ['snapd_recovery_mode', 'install'],
        ['snapd_recovery_system', label],
      ]),
    );
  } else {
    throw imageError('invalid-gadget', `cannot make a UC20+ image bootable with bootloader "${input.bootloader}": coreforge supports grub for UC20+ so far`);
  }
}

/** The seeded snaps, "name revision" per line sorted by name, as ubuntu-image writes seed.manifest. */
export function seedManifest(snaps: readonly SeedSnap[]): string {
  return [...snaps]
    .map((s) => `${s.sourced.info.name} ${s.sourced.revision}`)
    .sort()
    .map((l) => `${l}\n`)
    .join('');
}

/** Lists every path under `dir` (files and symlinks), relative, sorted; for tests and build.json. */
export async function listTree(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of (await readdir(join(dir, prefix), { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
    const rel = prefix === '' ? e.name : `${prefix}/${e.name}`;
    if (e.isDirectory()) out.push(...(await listTree(dir, rel)));
    else out.push(rel);
  }
  return out;
}


