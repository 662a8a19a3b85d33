import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type si from 'systeminformation';
import { type DriveSources, listDrives } from '../../../daemon/flash/drives.js';
import type { SysBlockFacts } from '../../../daemon/flash/sysfs.js';
import { MiB } from './images.js';
import { LoopDevices, loopSkipReason } from './loop-devices.js';

type Block = si.Systeminformation.BlockDevicesData;

function block(name: string, type: string, size: number, extra: Partial<Block> = {}): Block {
  return { name, identifier: name, type, size, fsType: '', mount: '', physical: '', uuid: '', label: '', model: '', serial: '', removable: false, protocol: '', group: '', device: '', ...extra };
}

function sys(name: string, dev: string, size: number, extra: Partial<SysBlockFacts> = {}): SysBlockFacts {
  return { name, dev, size, readOnly: false, removable: false, parent: null, logicalBlockSize: 512, holders: [], vendor: '', serial: '', backingFile: null, ...extra };
}

/** A machine with an NVMe system disk, a USB stick, a card with swap, an LVM disk, a loop device and a zram swap. */
function fakeMachine(imageOn: string | null = null): DriveSources {
  const devices = [
    block('nvme0n1', 'disk', 512e9, { model: 'Samsung SSD 980', serial: 'S1', protocol: 'nvme' }),
    block('nvme0n1p1', 'part', 1e9, { mount: '/boot/efi', fsType: 'vfat' }),
    block('nvme0n1p2', 'part', 511e9, { mount: '/', fsType: 'ext4' }),
    block('sdb', 'disk', 32e9, { model: 'Ultra Fit', serial: 'U1', protocol: 'usb', removable: true }),
    block('sdb1', 'part', 32e9, { mount: '/media/u/STICK', fsType: 'vfat', label: 'STICK' }),
    block('sdc', 'disk', 16e9, { protocol: 'usb' }),
    block('sdc1', 'part', 1e9, { mount: '[SWAP]', fsType: 'swap' }),
    block('sdd', 'disk', 64e9, { protocol: 'sata' }),
    block('sdd1', 'part', 64e9, { fsType: 'LVM2_member' }),
    block('loop0', 'loop', 64 * MiB),
    block('zram0', 'disk', 8e9, { mount: '[SWAP]' }),
    block('sde', 'disk', 0, { protocol: 'usb' }),
  ];
  const facts: Record<string, SysBlockFacts> = {
    nvme0n1: sys('nvme0n1', '259:0', 512e9),
    nvme0n1p1: sys('nvme0n1p1', '259:1', 1e9, { parent: 'nvme0n1' }),
    nvme0n1p2: sys('nvme0n1p2', '259:2', 511e9, { parent: 'nvme0n1' }),
    sdb: sys('sdb', '8:16', 32e9, { removable: true, vendor: 'SanDisk' }),
    sdb1: sys('sdb1', '8:17', 32e9, { parent: 'sdb' }),
    sdc: sys('sdc', '8:32', 16e9),
    sdc1: sys('sdc1', '8:33', 1e9, { parent: 'sdc' }),
    sdd: sys('sdd', '8:48', 64e9),
    sdd1: sys('sdd1', '8:49', 64e9, { parent: 'sdd', holders: ['dm-0'] }),
    loop0: sys('loop0', '7:0', 64 * MiB, { backingFile: '/tmp/x.img', readOnly: true }),
    zram0: sys('zram0', '252:0', 8e9),
    sde: sys('sde', '8:64', 0),
  };
  return {
    blockDevices: async () => devices,
    diskLayout: async () => [],
    sysfs: async (name) => facts[name] ?? null,
    fileDevice: async () => imageOn,
  };
}

describe('drive discovery', () => {
  it('lists whole drives with their partitions and verdicts, hiding loop, zram and empty readers', async () => {
    const drives = await listDrives({ image: { path: '/img/pi.img', size: 20e9 } }, fakeMachine());
    assert.deepEqual(drives.map((d) => [d.path, d.verdict, d.reasons]), [
      ['/dev/nvme0n1', 'system', ['system drive: holds /boot/efi, /', 'large: 512.0 GB, more than an SD card or USB stick usually is']],
      ['/dev/sdb', 'mounted', ['mounted on /media/u/STICK']],
      ['/dev/sdc', 'system', ['system drive: holds swap', 'too small: 16000000000 bytes for a 20000000000-byte image']],
      ['/dev/sdd', 'system', ['system drive: holds holders dm-0 (on sdd1)']],
    ]);
    const stick = drives[1]!;
    assert.deepEqual(
      { model: stick.model, vendor: stick.vendor, serial: stick.serial, bus: stick.bus, removable: stick.removable, dev: stick.dev, mountpoints: stick.mountpoints },
      { model: 'Ultra Fit', vendor: 'SanDisk', serial: 'U1', bus: 'usb', removable: true, dev: '8:16', mountpoints: ['/media/u/STICK'] },
    );
    assert.deepEqual(stick.partitions, [{ path: '/dev/sdb1', size: 32e9, fsType: 'vfat', label: 'STICK', mountpoints: ['/media/u/STICK'] }]);
  });

  it('shows loop devices only when asked', async () => {
    const drives = await listDrives({ includeLoop: true }, fakeMachine());
    const loop = drives.find((d) => d.path === '/dev/loop0');
    assert.deepEqual(loop && [loop.isLoop, loop.bus, loop.backingFile, loop.verdict], [true, 'loop', '/tmp/x.img', 'read-only']);
  });

  it('marks the drive whose partition holds the image as the source', async () => {
    const drives = await listDrives({ image: { path: '/media/u/STICK/pi.img', size: 1e9 } }, fakeMachine('8:17'));
    assert.deepEqual(drives.find((d) => d.path === '/dev/sdb')?.verdict, 'source');
  });

  it('accepts a system drive named in allow-system-drive', async () => {
    const drives = await listDrives({ allowSystemDrives: ['/dev/sdd'] }, fakeMachine());
    assert.deepEqual(drives.find((d) => d.path === '/dev/sdd')?.reasons, ['system drive (holders dm-0 (on sdd1)) allowed by name']);
  });
});

describe('drive discovery on this machine', { skip: loopSkipReason() ?? false }, () => {
  let dir: string;
  let loops: LoopDevices;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'coreforge-drives-'));
    loops = new LoopDevices(dir);
  });
  after(async () => {
    loops.detachAll();
    await rm(dir, { recursive: true, force: true });
  });

  it('finds real loop devices attached read-write and read-only, with sysfs facts', async () => {
    const rw = await loops.attach('rw.img', 48 * MiB);
    const ro = await loops.attach('ro.img', 48 * MiB, { readOnly: true });
    assert.equal((await listDrives()).some((d) => d.path === rw.path), false, 'loop devices are hidden by default');
    const drives = await listDrives({ includeLoop: true, image: { path: join(dir, 'none.img'), size: 40 * MiB } });
    const [a, b] = [drives.find((d) => d.path === rw.path), drives.find((d) => d.path === ro.path)];
    assert.deepEqual(a && [a.size, a.isLoop, a.readOnly, a.backingFile, a.verdict], [48 * MiB, true, false, rw.backing, 'ok']);
    assert.deepEqual(b && [b.size, b.readOnly, b.verdict, b.reasons], [48 * MiB, true, 'read-only', ['read-only']]);
    assert.match(a!.dev, /^7:\d+$/);
    const small = await listDrives({ includeLoop: true, image: { path: '/nonexistent.img', size: 64 * MiB } });
    assert.equal(small.find((d) => d.path === rw.path)?.verdict, 'too-small');
  });

  it('calls the disk holding / a system drive', async (t) => {
    const root = (await listDrives()).find((d) => d.mountpoints.includes('/'));
    if (!root) {
      t.skip('no block device holds / here (overlay or network root)');
      return;
    }
    assert.equal(root.verdict, 'system');
    assert.ok(root.reasons.some((r) => r.startsWith('system drive: holds /')));
  });
});
