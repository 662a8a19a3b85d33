// The acceptance test of read-back verification: it must read the drive, not the page cache.
import assert from 'node:assert/strict';
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { flashImage } from '../../../daemon/flash/flash.js';
import { verifyDrive } from '../../../daemon/flash/verify-drive.js';
import { bmapFor, MiB, type TestImage, typicalRanges, writeImage } from './images.js';
import { type Loop, LoopDevices, loopSkipReason } from './loop-devices.js';

const skip = loopSkipReason() ?? false;

/**
 * A buffered read through the device's page cache (what a naive verifier would
 * see), on a descriptor the test keeps open: the kernel drops a block device's
 * cache at its last close, so some other holder (udev, a desktop) is simulated.
 */
function cachedRead(fd: number, offset: number, length: number): Buffer {
  const buf = Buffer.alloc(length);
  readSync(fd, buf, 0, length, offset);
  return buf;
}

/** Inverts bytes of the loop device's backing file, behind the device's page cache. */
function corruptBacking(loop: Loop, offset: number, length: number): void {
  const fd = openSync(loop.backing, 'r+');
  try {
    const buf = Buffer.alloc(length);
    readSync(fd, buf, 0, length, offset);
    for (let i = 0; i < length; i++) buf[i] = ~buf[i]! & 0xff;
    writeSync(fd, buf, 0, length, offset);
  } finally {
    closeSync(fd);
  }
}

describe('verification reads the drive, not the page cache', { skip }, () => {
  let dir: string;
  let loops: LoopDevices;
  let image: TestImage;
  let n = 0;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'coreforge-verify-drive-'));
    loops = new LoopDevices(dir);
    image = await writeImage(join(dir, 'pi.img'), 24 * MiB, [...typicalRanges(24 * MiB), { start: 20 * MiB, end: 21 * MiB }].sort((a, b) => a.start - b.start));
  });
  after(async () => {
    loops.detachAll();
    await rm(dir, { recursive: true, force: true });
  });

  for (const withBmap of [false, true]) {
    it(`reports the exact range corrupted in the backing file after the cache was filled${withBmap ? ' (bmap ranges)' : ''}`, async () => {
      const loop = await loops.attach(`d${n++}`, 32 * MiB, { fill: 0xaa });
      const bmap = withBmap ? join(dir, `pi${n}.bmap`) : undefined;
      if (bmap) await writeFile(bmap, bmapFor(image));
      const flashed = await flashImage({ image: image.path, bmap, useBmap: withBmap, targets: [{ path: loop.path, size: loop.size }] });
      assert.equal(flashed.targets[0]!.ok, true);

      const at = 5 * MiB + 1234;
      const holder = openSync(loop.path, 'r');
      try {
        const good = cachedRead(holder, 4 * MiB, 4 * MiB); // fills the device's page cache with the good bytes
        corruptBacking(loop, at, 300);
        assert.ok(cachedRead(holder, 4 * MiB, 4 * MiB).equals(good), 'precondition: a cached read still sees the old bytes');

        const check = await verifyDrive(image.path, loop.path, { bmap, useBmap: withBmap });
        assert.deepEqual(check.mismatches, [{ start: at, end: at + 300 }]);
      } finally {
        closeSync(holder);
      }
    });
  }

  it('fails the flash of a drive whose data changes between writing and reading back, naming the bytes', async () => {
    const loop = await loops.attach(`d${n++}`, 32 * MiB, { fill: 0xaa });
    const at = 20 * MiB + 4000;
    let corrupted = false;
    const holder = openSync(loop.path, 'r');
    const result = await flashImage({ image: image.path, targets: [{ path: loop.path, size: loop.size }] }, {
      onProgress: (_, p) => {
        if (p.phase === 'verifying' && !corrupted) {
          corrupted = true;
          const good = cachedRead(holder, 20 * MiB, MiB);
          corruptBacking(loop, at, 10);
          assert.ok(cachedRead(holder, 20 * MiB, MiB).equals(good), 'precondition: a cached read still sees the old bytes');
        }
      },
    }).finally(() => closeSync(holder));
    const t = result.targets[0]!;
    assert.deepEqual([t.ok, t.verified, t.mismatches], [false, true, [{ start: at, end: at + 10 }]]);
    assert.equal((t.error as { kind?: string }).kind, 'verify-mismatch');
    assert.equal(t.error!.message, `verification of ${loop.path} failed: bytes ${at}-${at + 9} read back different from the image; the drive may be failing or counterfeit (smaller than it claims), try another drive`);
  });
});
