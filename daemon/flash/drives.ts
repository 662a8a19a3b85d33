// Edge module: drive discovery from systeminformation (lsblk underneath) and
// sysfs, with the verdict of verdict.ts attached to each drive.
import { stat } from 'node:fs/promises';
import si from 'systeminformation';
import { type DriveFacts, driveVerdict, type Verdict } from './verdict.js';
import { deviceNumber, type SysBlockFacts, sysBlockFacts } from './sysfs.js';

/** A partition of a drive, as shown before it is erased. */
export interface Partition {
  path: string;
  size: number;
  fsType: string;
  label: string;
  mountpoints: string[];
}

/** A candidate target drive with its safety verdict. */
export interface Drive extends DriveFacts {
  /** Kernel name ("sdb", "mmcblk0", "loop3"). */
  name: string;
  /** "MAJ:MIN", checked again when the drive is opened. */
  dev: string;
  model: string;
  vendor: string;
  serial: string;
  /** Transport: usb, mmc, sata, nvme, loop... ("" when unknown). */
  bus: string;
  removable: boolean;
  partitions: Partition[];
  /** The backing file of a loop device. */
  backingFile: string | null;
  verdict: Verdict;
  reasons: string[];
}

/** What to list drives for. */
export interface ListDrivesOptions {
  /** Show loop devices (hidden by default: they are files, used by tests and image work). */
  includeLoop?: boolean;
  /** The image to be flashed: drives too small for it or holding it are refused. */
  image?: { path: string; size: number | null };
  allowSystemDrives?: readonly string[];
}

/** The outside world discovery reads, injectable for tests. */
export interface DriveSources {
  blockDevices: () => Promise<si.Systeminformation.BlockDevicesData[]>;
  diskLayout: () => Promise<si.Systeminformation.DiskLayoutData[]>;
  sysfs: (name: string) => Promise<SysBlockFacts | null>;
  /** "MAJ:MIN" of the filesystem holding a file, null if it cannot be read. */
  fileDevice: (path: string) => Promise<string | null>;
}

/** The real sources: systeminformation, /sys, stat(2). */
export const systemDriveSources: DriveSources = {
  blockDevices: () => si.blockDevices(),
  diskLayout: () => si.diskLayout().catch(() => []),
  sysfs: sysBlockFacts,
  fileDevice: async (path) => {
    try {
      return deviceNumber((await stat(path, { bigint: true })).dev);
    } catch {
      return null;
    }
  },
};

/** Device kinds that are never flash targets even though lsblk calls them disks. */
const hiddenNames = /^(zram|ram)\d+$/;

/** Lists whole drives with facts and verdicts, sorted by path. */
export async function listDrives(options: ListDrivesOptions = {}, sources: DriveSources = systemDriveSources): Promise<Drive[]> {
  const [devices, layout] = await Promise.all([sources.blockDevices(), sources.diskLayout()]);
  const imageDev = options.image ? await sources.fileDevice(options.image.path) : null;
  const wholes = devices.filter((d) => (d.type === 'disk' || d.type === 'loop') && !hiddenNames.test(d.name));
  const parts = await Promise.all(devices.filter((x) => x.type === 'part').map(async (p) => ({ p, sys: await sources.sysfs(p.name) })));
  const drives: Drive[] = [];
  for (const d of wholes) {
    const isLoop = d.type === 'loop';
    if (isLoop && !options.includeLoop) continue;
    const sys = await sources.sysfs(d.name);
    if (!sys || sys.size === 0) continue; // gone since lsblk ran, or an empty card reader
    const partitions: Partition[] = [];
    const holders = sys.holders.map((h) => `${h} (on ${d.name})`);
    const devs = [sys.dev];
    for (const { p, sys: psys } of parts) {
      if (!psys || psys.parent !== d.name) continue;
      devs.push(psys.dev);
      holders.push(...psys.holders.map((h) => `${h} (on ${p.name})`));
      partitions.push({ path: `/dev/${p.name}`, size: p.size, fsType: p.fsType ?? '', label: p.label ?? '', mountpoints: p.mount ? [p.mount] : [] });
    }
    const disk = layout.find((l) => l.device === `/dev/${d.name}`);
    const facts: DriveFacts = {
      path: `/dev/${d.name}`,
      size: sys.size,
      readOnly: sys.readOnly,
      isLoop,
      mountpoints: [...(d.mount ? [d.mount] : []), ...partitions.flatMap((p) => p.mountpoints)],
      holders,
      holdsImage: imageDev !== null && devs.includes(imageDev),
    };
    const { verdict, reasons } = driveVerdict(facts, { imageSize: options.image?.size ?? null, allowSystemDrives: options.allowSystemDrives });
    drives.push({
      ...facts,
      name: d.name,
      dev: sys.dev,
      model: (d.model || disk?.name || '').trim(),
      vendor: (sys.vendor || disk?.vendor || '').trim(),
      serial: (d.serial || disk?.serialNum || sys.serial || '').trim(),
      bus: isLoop ? 'loop' : (d.protocol || disk?.interfaceType || '').toLowerCase(),
      removable: d.removable || sys.removable,
      partitions,
      backingFile: sys.backingFile,
      verdict,
      reasons,
    });
  }
  return drives.sort((a, b) => a.path.localeCompare(b.path));
}
