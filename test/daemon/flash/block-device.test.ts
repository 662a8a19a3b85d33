import assert from 'node:assert/strict';
import { constants } from 'node:fs';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { driveIoError, openBlockDevice } from '../../../daemon/flash/block-device.js';
import { deviceNumber } from '../../../daemon/flash/sysfs.js';
import { flashImage } from '../../../daemon/flash/flash.js';
import { MiB, writeImage } from './images.js';
import { LoopDevices, loopSkipReason } from './loop-devices.js';

describe('drive i/o errors', () => {
  const range = { start: 4 * MiB, end: 8 * MiB };
  const table: [string, string, string][] = [
    ['ENODEV', 'drive-removed', 'cannot write /dev/sdz at bytes 4194304-8388607: the drive was removed; plug it in again and flash it again'],
    ['ENOSPC', 'no-space', 'cannot write /dev/sdz at bytes 4194304-8388607: no space left on the drive; use a bigger drive or a smaller image'],
    ['EROFS', 'read-only-drive', 'cannot write /dev/sdz at bytes 4194304-8388607: the drive is read-only; slide its write-protect switch off and try again'],
    ['EACCES', 'permission-denied', 'cannot write /dev/sdz at bytes 4194304-8388607: permission denied; run coreforged as root or give it access to the drive'],
    ['EIO', 'io-error', 'cannot write /dev/sdz at bytes 4194304-8388607: i/o error (EIO); the drive may be failing, try another drive or reader'],
  ];
  for (const [code, kind, message] of table) {
    it(`maps ${code} to ${kind} with the byte range`, async () => {
      const err = await driveIoError('/dev/sdz', null, Object.assign(new Error(code), { code }), range, 'write');
      assert.deepEqual([(err as { kind?: string }).kind, err.message], [kind, message]);
    });
  }

  it('calls an i/o error on a drive that is gone from sysfs a removal', async () => {
    const err = await driveIoError('/dev/sdz', '259:999999', Object.assign(new Error('EIO'), { code: 'EIO' }), range, 'read');
    assert.equal((err as { kind?: string }).kind, 'drive-removed');
  });

  it('splits device numbers as glibc does', () => {
    assert.deepEqual([deviceNumber(0x801n), deviceNumber(0x110300n), deviceNumber(0x100000000700n)], ['8:1', '259:256', '4103:0']);
  });
});

describe('opening a drive for flashing', { skip: loopSkipReason() ?? false }, () => {
  let dir: string;
  let loops: LoopDevices;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'coreforge-blockdev-'));
    loops = new LoopDevices(dir);
  });
  after(async () => {
    loops.detachAll();
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses a drive that is not the one listed', async () => {
    const loop = await loops.attach('a.img', 16 * MiB);
    await assert.rejects(openBlockDevice(loop.path, { size: 8 * MiB }), {
      kind: 'drive-changed',
      message: `cannot flash ${loop.path}: it is now ${16 * MiB} bytes, not ${8 * MiB} as listed; the card was swapped or resized, list the drives again and check which one to flash`,
    });
    await assert.rejects(openBlockDevice(loop.path, { size: 16 * MiB, dev: '8:99' }), { kind: 'drive-changed', message: new RegExp(`^cannot flash ${loop.path}: it is now device 7:\\d+, not 8:99 as listed; another drive took its name`) });
  });

  it('refuses a read-only drive when opening it', async () => {
    const loop = await loops.attach('ro.img', 16 * MiB, { readOnly: true });
    await assert.rejects(openBlockDevice(loop.path, { size: 16 * MiB }), { kind: 'read-only-drive', message: `cannot flash ${loop.path}: the drive is read-only; slide its write-protect switch off and try again` });
  });

  it('refuses a drive another program holds exclusively', async () => {
    const loop = await loops.attach('busy.img', 16 * MiB);
    const holder = await open(loop.path, constants.O_RDONLY | constants.O_EXCL);
    try {
      await assert.rejects(openBlockDevice(loop.path, { size: 16 * MiB }), {
        kind: 'drive-busy',
        message: `cannot open ${loop.path}: it is in use (mounted, or held by another program); unmount its partitions and close programs using it`,
      });
    } finally {
      await holder.close();
    }
  });

  it('writes an image whose size is not a multiple of 512 without touching the bytes after it', async () => {
    const loop = await loops.attach('odd.img', 16 * MiB, { fill: 0xaa });
    const img = await writeImage(join(dir, 'odd-image.img'), 8 * MiB + 100, [{ start: 0, end: 8 * MiB + 100 }], 3);
    const result = await flashImage({ image: img.path, targets: [{ path: loop.path, size: loop.size }] });
    assert.deepEqual([result.targets[0]!.ok, result.targets[0]!.verified], [true, true]);
    const handle = await open(loop.backing, 'r');
    const bytes = Buffer.alloc(9 * MiB);
    await handle.read(bytes, 0, bytes.length, 0);
    await handle.close();
    assert.ok(bytes.subarray(0, img.size).equals(img.data));
    assert.ok(bytes.subarray(img.size, 9 * MiB).every((b) => b === 0xaa), 'the rest of the last sector and beyond are untouched');
  });

  it('refuses to open a regular file as a drive', async () => {
    const path = join(dir, 'plain.bin');
    await writeFile(path, Buffer.alloc(MiB));
    await assert.rejects(openBlockDevice(path, { size: MiB }), { kind: 'not-a-block-device', message: `cannot flash ${path}: it is a regular file, not a block device; name a whole drive such as /dev/sdb or /dev/mmcblk0 (see "coreforge drives")` });
  });
});
