// Flashing real block devices: loop devices over sparse files in a temp dir.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type FlashRequest, flashImage } from '../../../daemon/flash/flash.js';
import type { FlashProgress } from '../../../daemon/flash/progress.js';
import type { ByteRange } from '../../../daemon/flash/ranges.js';
import { bmapFor, compressFile, haveTool, MiB, type TestImage, typicalRanges, writeImage } from './images.js';
import { type Loop, LoopDevices, loopSkipReason, deviceBytes } from './loop-devices.js';

const skip = loopSkipReason() ?? false;
const garbage = 0xaa;

function assertMapped(device: Buffer, image: TestImage, ranges: ByteRange[] = [{ start: 0, end: image.size }]): void {
  for (const r of ranges) assert.ok(device.subarray(r.start, r.end).equals(image.data.subarray(r.start, r.end)), `bytes ${r.start}-${r.end - 1} hold the image`);
}

function request(image: string, loops: Loop[], extra: Partial<FlashRequest> = {}): FlashRequest {
  return { image, targets: loops.map((l) => ({ path: l.path, size: l.size })), ...extra };
}

describe('flashing loop devices', { skip }, () => {
  let dir: string;
  let loops: LoopDevices;
  let image: TestImage;
  let n = 0;
  const device = (size = 40 * MiB) => loops.attach(`dev${n++}`, size, { fill: garbage });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'coreforge-flash-'));
    loops = new LoopDevices(dir);
    await mkdir(join(dir, 'images'));
    image = await writeImage(join(dir, 'images', 'pi.img'), 24 * MiB, typicalRanges(24 * MiB));
  });
  after(async () => {
    loops.detachAll();
    await rm(dir, { recursive: true, force: true });
  });

  it('flashes a raw image and reads it back from the device', async () => {
    const loop = await device();
    const phases = new Set<string>();
    const result = await flashImage(request(image.path, [loop]), { onProgress: (_, p) => phases.add(p.phase) });
    assert.deepEqual(result.targets.map((t) => [t.path, t.ok, t.verified, t.bytesWritten, t.error]), [[loop.path, true, true, image.size, null]]);
    assert.deepEqual([...phases], ['flashing', 'verifying']);
    assertMapped(await deviceBytes(loop), image);
  });

  for (const [kind, tool] of [['gzip', 'gzip'], ['xz', 'xz'], ['zstd', 'zstd']] as const) {
    it(`flashes a ${kind} image streamed through its decompressor`, { skip: !haveTool(tool) && `${tool} is not installed` }, async () => {
      const sub = await mkdtemp(join(dir, `${kind}-`));
      const img = await writeImage(join(sub, 'pi.img'), 24 * MiB, typicalRanges(24 * MiB), 11);
      const compressed = compressFile(img.path, kind);
      await rm(img.path);
      const loop = await device();
      const phases: string[] = [];
      const result = await flashImage(request(compressed, [loop]), { onProgress: (_, p) => phases.at(-1) !== p.phase && phases.push(p.phase) });
      assert.equal(result.targets[0]!.error, null);
      assert.equal(result.targets[0]!.verified, true);
      assert.deepEqual(phases, kind === 'gzip' ? ['decompressing', 'flashing', 'verifying'] : ['flashing', 'verifying'], 'gzip records no size: it is measured first');
      assertMapped(await deviceBytes(loop), img);
    });
  }

  it('writes only the ranges of a bmap found beside the image', async () => {
    await writeFile(`${image.path}.bmap`, bmapFor(image));
    try {
      const loop = await device();
      const progress: FlashProgress[] = [];
      const result = await flashImage(request(image.path, [loop]), { onProgress: (_, p) => progress.push(p) });
      assert.equal(result.bmap, `${image.path}.bmap`);
      assert.equal(result.mappedBytes, image.ranges.reduce((s, r) => s + r.end - r.start, 0));
      assert.equal(result.targets[0]!.ok, true);
      const bytes = await deviceBytes(loop);
      assertMapped(bytes, image, image.ranges);
      assert.ok(bytes.subarray(2 * MiB, 5 * MiB).every((b) => b === garbage), 'a hole of the image is not written');
      assert.ok(bytes.subarray(64 * 1024, MiB).every((b) => b === 0), 'the first MiB is cleared even where the image has no data');
      assert.equal(progress.filter((p) => p.phase === 'flashing').at(-1)?.total, result.mappedBytes);
    } finally {
      await rm(`${image.path}.bmap`);
    }
  });

  it('uses the bmap of the uncompressed name for an .xz image', { skip: !haveTool('xz') && 'xz is not installed' }, async () => {
    const sub = await mkdtemp(join(dir, 'xzbmap-'));
    const img = await writeImage(join(sub, 'pc.img'), 24 * MiB, typicalRanges(24 * MiB), 13);
    await writeFile(join(sub, 'pc.img.bmap'), bmapFor(img));
    const compressed = compressFile(img.path, 'xz');
    const loop = await device();
    const result = await flashImage(request(compressed, [loop]));
    assert.equal(result.bmap, join(sub, 'pc.img.bmap'));
    assert.equal(result.targets[0]!.ok, true);
    const bytes = await deviceBytes(loop);
    assertMapped(bytes, img, img.ranges);
    assert.ok(bytes.subarray(2 * MiB, 5 * MiB).every((b) => b === garbage));
  });

  it('flashes with a bmap written by bmaptool itself', { skip: !haveTool('bmaptool') && 'bmaptool is not installed' }, async () => {
    const sub = await mkdtemp(join(dir, 'bmaptool-'));
    const img = await writeImage(join(sub, 'pc.img'), 24 * MiB, typicalRanges(24 * MiB), 19);
    execFileSync('bmaptool', ['create', '-o', join(sub, 'pc.img.bmap'), img.path], { stdio: 'ignore' });
    const loop = await device();
    const result = await flashImage(request(img.path, [loop]));
    assert.equal(result.bmap, join(sub, 'pc.img.bmap'));
    assert.deepEqual([result.targets[0]!.ok, result.targets[0]!.verified], [true, true]);
    assert.ok(result.mappedBytes < img.size, 'the holes were skipped');
    assertMapped(await deviceBytes(loop), img, img.ranges);
  });

  it('skips the read-back when verification is off', async () => {
    const loop = await device();
    const phases = new Set<string>();
    const result = await flashImage(request(image.path, [loop], { verify: false }), { onProgress: (_, p) => phases.add(p.phase) });
    assert.deepEqual([result.targets[0]!.ok, result.targets[0]!.verified, [...phases]], [true, false, ['flashing']]);
    assertMapped(await deviceBytes(loop), image);
  });

  it('flashes three drives from one read of the image and verifies each', async () => {
    const targets = [await device(), await device(), await device(32 * MiB)];
    const seen = new Map<string, number>();
    const result = await flashImage(request(image.path, targets), { onProgress: (t, p) => p.phase === 'verifying' && seen.set(t, p.bytes) });
    assert.deepEqual(result.targets.map((t) => [t.ok, t.verified]), [[true, true], [true, true], [true, true]]);
    for (const loop of targets) {
      assertMapped(await deviceBytes(loop), image);
      assert.equal(seen.get(loop.path), image.size, `${loop.path} was read back in full`);
    }
  });

  it('fails the drive that breaks mid-write with its byte range while the others finish and verify', async (t) => {
    // A loop device whose backing file sits on an 8 MiB tmpfs: writes past 8 MiB fail like a dying card.
    // (losetup -d cannot break a loop device that is open: the kernel defers the detach until it is closed.)
    const small = join(dir, 'small-fs');
    await mkdir(small);
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', small]);
    } catch {
      t.skip('cannot mount a tmpfs here');
      return;
    }
    try {
      const good = [await device(), await device()];
      const failing = await loops.attach('on-small-fs', 40 * MiB, { dir: small });
      const result = await flashImage(request(image.path, [good[0]!, failing, good[1]!]));
      const bad = result.targets[1]!;
      assert.equal(bad.ok, false);
      assert.equal((bad.error as { kind?: string }).kind, 'no-space');
      assert.match(bad.error!.message, new RegExp(`^cannot write ${failing.path} at bytes \\d+-\\d+: no space left on the drive; use a bigger drive or a smaller image$`));
      const range = (bad.error as { details?: { range?: ByteRange } }).details?.range;
      assert.ok(range && range.start < 8 * MiB && range.end > 7 * MiB, `the failing range ${JSON.stringify(range)} is where the tmpfs filled up`);
      assert.equal(bad.verified, false);
      for (const [i, loop] of [[0, good[0]!], [2, good[1]!]] as const) {
        assert.deepEqual([result.targets[i]!.ok, result.targets[i]!.verified], [true, true]);
        assertMapped(await deviceBytes(loop), image);
      }
      const failed = await deviceBytes(failing, MiB);
      assert.ok(failed.every((b) => b === 0), 'the failed drive has no partition table');
    } finally {
      loops.detachAll();
      execFileSync('umount', [small]);
    }
  });

  it('stops on abort mid-write and leaves the first MiB zeroed', async () => {
    const big = await writeImage(join(dir, 'images', 'dense.img'), 96 * MiB, [{ start: 0, end: 96 * MiB }], 17);
    const loop = await device(100 * MiB);
    const controller = new AbortController();
    let flashed = 0;
    await assert.rejects(
      flashImage(request(big.path, [loop]), { writeSize: MiB, onProgress: (_, p) => {
        flashed = p.bytes;
        if (p.phase === 'flashing' && p.bytes >= 24 * MiB) controller.abort();
      } }, controller.signal),
      { kind: 'aborted', message: 'the flash was aborted; start it again to finish' },
    );
    const bytes = await deviceBytes(loop);
    assert.ok(bytes.subarray(0, MiB).every((b) => b === 0), 'no partition table is left');
    assert.ok(bytes.subarray(MiB, 24 * MiB).equals(big.data.subarray(MiB, 24 * MiB)), 'it was mid-write');
    assert.ok(bytes.subarray(60 * MiB, 96 * MiB).every((b) => b === garbage), `it stopped promptly (after ${flashed} bytes)`);
  });
});
