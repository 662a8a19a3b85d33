/** Resolution of device paths under the --root directory. */
import { lstat, readlink, realpath } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { ccError } from './errors.js';

/** The host path of device path `devicePath` under `root`; refuses anything that leaves the root. */
export function underRoot(root: string, devicePath: string): string {
  const base = resolve(root);
  const full = resolve(base, '.' + sep + devicePath.replace(/^\/+/, ''));
  if (full !== base && !full.startsWith(base.endsWith(sep) ? base : base + sep)) {
    throw ccError('path-escape', `cannot use path "${devicePath}": it leaves the root ${base}; use a path inside the root`);
  }
  return full;
}

/** Well-known device paths, relative to the root. */
export const PATHS = {
  stateDir: 'var/lib/console-conf',
  marker: 'var/lib/console-conf/complete',
  journal: 'var/lib/console-conf/create-user.json',
  /** withLocks() adds .lock: var/lib/console-conf/running.lock */
  runLock: 'var/lib/console-conf/running',
  /** the headless first-boot file of a UC16/18 image (FIRST_BOOT_PATHS has all the places) */
  firstBoot: 'var/lib/console-conf/first-boot.yaml',
  extrausers: 'var/lib/extrausers',
  etc: 'etc',
  sudoersDir: 'etc/sudoers.d',
  netplan: 'etc/netplan/00-console-conf.yaml',
  sshDir: 'etc/ssh',
  snapdSocket: 'run/snapd.socket',
  sysNet: 'sys/class/net',
} as const;

/**
 * Where `coreforge build --first-boot FILE` puts FILE, in the order they are
 * looked at. UC16/18 images carry it in writable (system-data's
 * _writable_defaults); UC20+ images have no system-data in the image, so it is
 * on ubuntu-seed, which run mode binds at /var/lib/snapd/seed and mounts at
 * /run/mnt/ubuntu-seed (the second is for systems without the bind mount).
 */
export const FIRST_BOOT_PATHS: readonly string[] = [
  PATHS.firstBoot,
  'var/lib/snapd/seed/coreforge/first-boot.yaml',
  'run/mnt/ubuntu-seed/coreforge/first-boot.yaml',
];

/**
 * underRoot() plus a check that no symlink on the way leads out of the root
 * (an image prepared with --root must not get the host's files written).
 */
export async function safeUnderRoot(root: string, devicePath: string): Promise<string> {
  const full = underRoot(root, devicePath);
  const realRoot = await realpath(resolve(root));
  let probe = full;
  for (;;) {
    try {
      const real = await realpath(probe);
      if (real !== realRoot && !real.startsWith(realRoot === sep ? sep : realRoot + sep)) {
        throw ccError('path-escape', `cannot use path "${devicePath}": ${probe} leads to ${real}, outside the root ${realRoot}; replace the symlink with a directory`);
      }
      return full;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw err;
      const parent = dirname(probe);
      if (parent === probe) return full;
      probe = parent;
    }
  }
}

/**
 * The host path of a device path console-conf writes (creates, replaces or
 * chowns): safeUnderRoot(), and no component below the root may be a symlink,
 * not even one that stays inside it (a home linked to ../etc must not get etc
 * chowned, a .ssh linked elsewhere must not get keys written there).
 * Components that do not exist yet are fine: console-conf creates them.
 */
export async function writableUnderRoot(root: string, devicePath: string, leaf: 'file' | 'directory' = 'file'): Promise<string> {
  const full = await safeUnderRoot(root, devicePath);
  const base = resolve(root);
  const parts = relative(base, full).split(sep).filter((p) => p !== '');
  let probe = base;
  for (const [i, part] of parts.entries()) {
    probe = join(probe, part);
    let st;
    try {
      st = await lstat(probe);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return full;
      throw err;
    }
    if (st.isSymbolicLink()) {
      const to = await readlink(probe).catch(() => '?');
      const what = i === parts.length - 1 ? leaf : 'directory';
      throw ccError(
        'unsafe-path',
        `cannot write /${parts.join('/')} under the root ${base}: ${probe} is a symlink (to ${to}), and console-conf follows no symlink where it writes; replace the symlink with a real ${what}`,
      );
    }
    if (!st.isDirectory()) return full; // the write itself reports it (ENOTDIR, EISDIR)
  }
  return full;
}
