// The text the flash commands print, from fixed API values.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderDrivesTable, renderErasePlan, renderFlashSummary, renderProgressBlock } from '../../client/commands/flash.js';
import type { DriveInfo, FlashResult, ProgressEvent } from '../../daemon/api/types.js';

const MiB = 1 << 20;
const card: DriveInfo = {
  path: '/dev/sdb', name: 'sdb', size: 30_000 * MiB, model: 'Ultra', vendor: 'SanDisk', serial: 'A1', bus: 'usb', removable: true,
  'read-only': false, loop: false, mountpoints: ['/media/u/boot'], holders: [], 'backing-file': null, verdict: 'mounted', reasons: ['mounted on /media/u/boot'],
  partitions: [
    { path: '/dev/sdb1', size: 256 * MiB, 'fs-type': 'vfat', label: 'system-boot', mountpoints: ['/media/u/boot'] },
    { path: '/dev/sdb2', size: 2048 * MiB, 'fs-type': 'ext4', label: 'writable', mountpoints: [] },
  ],
};
const system: DriveInfo = { ...card, path: '/dev/sda', name: 'sda', model: 'SSD 860', vendor: 'Samsung', bus: 'sata', removable: false, partitions: [], verdict: 'system', reasons: ['system drive: holds /'] };

describe('flash command output', () => {
  it('lists drives as a table with verdicts and reasons', () => {
    assert.equal(
      renderDrivesTable([system, card]),
      'Device    Size      Model            Bus   Removable  Verdict  Reasons\n' +
        '/dev/sda  29.3 GiB  Samsung SSD 860  sata  no         system   system drive: holds /\n' +
        '/dev/sdb  29.3 GiB  SanDisk Ultra    usb   yes        mounted  mounted on /media/u/boot\n',
    );
  });

  it('shows each drive to be erased with its partitions, what is mounted where, and that it will be unmounted', () => {
    assert.equal(
      renderErasePlan([card], '/tmp/pi.img'),
      'Flashing /tmp/pi.img will erase everything on:\n' +
        '  /dev/sdb  29.3 GiB  SanDisk Ultra (usb)\n' +
        '    /dev/sdb1  256.0 MiB  vfat  "system-boot"  mounted on /media/u/boot\n' +
        '    /dev/sdb2  2.0 GiB  ext4  "writable"\n' +
        'Mounted now, and unmounted before anything is written: /media/u/boot (/dev/sdb1)\n',
    );
    const stick: DriveInfo = { ...card, path: '/dev/sdc', partitions: [], mountpoints: ['/mnt/stick'], reasons: ['mounted on /mnt/stick', 'large: 256.0 GB, more than an SD card or USB stick usually is'] };
    assert.equal(
      renderErasePlan([stick], '/tmp/pi.img'),
      'Flashing /tmp/pi.img will erase everything on:\n' +
        '  /dev/sdc  29.3 GiB  SanDisk Ultra (usb)\n' +
        '    no partitions\n' +
        '    the whole drive is mounted on /mnt/stick\n' +
        '    note: large: 256.0 GB, more than an SD card or USB stick usually is\n' +
        'Mounted now, and unmounted before anything is written: /mnt/stick (/dev/sdc)\n',
    );
  });

  it('summarises each drive with the bytes written per second, verification, total time and what was unmounted; sizes apart', () => {
    const result: FlashResult = {
      image: '/tmp/pi.img', bmap: '/tmp/pi.img.bmap', 'image-size': 1024 * MiB, 'mapped-bytes': 160 * MiB,
      targets: [
        { path: '/dev/sdb', ok: true, 'bytes-written': 160 * MiB, verified: true, mismatches: [], error: null, unmounted: [{ device: '/dev/sdb1', mountpoint: '/media/u/boot' }], 'write-seconds': 8, seconds: 16 },
        { path: '/dev/sdc', ok: false, 'bytes-written': 8 * MiB, verified: false, mismatches: [], error: { kind: 'no-space', message: 'cannot write /dev/sdc at bytes 8388608-12582911: no space left on the drive; use a bigger drive or a smaller image' }, unmounted: [], 'write-seconds': 1, seconds: 1 },
      ],
    };
    assert.equal(
      renderFlashSummary(result),
      '/tmp/pi.img: 1.0 GiB image, 160.0 MiB of data to write (bmap /tmp/pi.img.bmap)\n' +
        'Drive     Result  Written                         Verify        Total\n' +
        '/dev/sdb  ok      160.0 MiB in 8.0s (20.0 MiB/s)  verified      16.0s\n' +
        '/dev/sdc  FAILED  8.0 MiB in 1.0s (8.0 MiB/s)     not verified  1.0s\n' +
        '/dev/sdb: unmounted /media/u/boot (/dev/sdb1) before writing\n',
    );
  });

  it('draws one progress line per drive in the order they were named', () => {
    const e = (target: string, bytes: number): ProgressEvent => ({ change: '1', task: '1', status: 'Doing', phase: 'flashing', done: bytes, bytes, total: 100 * MiB, unit: 'bytes', percentage: bytes / MiB, speed: 10 * MiB, eta: 5, target });
    const lines = renderProgressBlock(['/dev/sdb', '/dev/sdc'], new Map([['/dev/sdc', e('/dev/sdc', 50 * MiB)]]), 120);
    assert.equal(lines[0], '/dev/sdb  waiting');
    assert.match(lines[1]!, /^\/dev\/sdc  flashing\s+\[(#+)\.+\]\s+50\.0%\s+50\.0 MiB\/100\.0 MiB\s+10\.0 MiB\/s\s+ETA 0:05$/);
  });
});
