// Every bad input to a flash gets a clear error before a byte is written.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, open, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { listDrives } from '../../../daemon/flash/drives.js';
import type { Exec } from '../../../daemon/flash/exec.js';
import { type FlashRequest, flashImage } from '../../../daemon/flash/flash.js';
import { bmapFor, compressFile, haveTool, MiB, type TestImage, typicalRanges, writeImage } from './images.js';
import { type Loop, LoopDevices, loopSkipReason } from './loop-devices.js';

const skip = loopSkipReason() ?? false;
const garbage = 0xaa;

async function untouched(loop: Loop): Promise<boolean> {
  const handle = await open(loop.backing, 'r');
  try {
    const buf = Buffer.alloc(loop.size);
    await handle.read(buf, 0, loop.size, 0);
    return buf.every((b) => b === garbage);
  } finally {
    await handle.close();
  }
}

function request(image: string, loops: Loop[], extra: Partial<FlashRequest> = {}): FlashRequest {
  return { image, targets: loops.map((l) => ({ path: l.path, size: l.size })), ...extra };
}

describe('flash refusals', { skip }, () => {
  let dir: string;
  let loops: LoopDevices;
  let image: TestImage;
  let target: Loop;
  let n = 0;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'coreforge-refuse-'));
    loops = new LoopDevices(dir);
    await mkdir(join(dir, 'img'));
    image = await writeImage(join(dir, 'img', 'pi.img'), 24 * MiB, typicalRanges(24 * MiB));
    target = await loops.attach('target', 32 * MiB, { fill: garbage });
  });
  after(async () => {
    loops.detachAll();
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses the disk holding / without unmounting, opening or writing it', async (t) => {
    const root = (await listDrives()).find((d) => d.mountpoints.includes('/'));
    if (!root) {
      t.skip('no block device holds / here (overlay or network root)');
      return;
    }
    assert.equal(root.verdict, 'system');
    const calls: string[] = [];
    const exec: Exec = async (file, args) => {
      calls.push([file, ...args].join(' '));
      return { code: 1, stdout: '', stderr: 'refused by the test' };
    };
    await assert.rejects(
      flashImage({ image: image.path, targets: [{ path: root.path, size: root.size }] }, {
        deps: { exec, openTarget: async () => assert.fail('the system drive must never be opened for writing') },
      }),
      (err: { kind?: string; message?: string }) => {
        assert.equal(err.kind, 'system-drive');
        assert.match(err.message!, new RegExp(`^cannot flash ${root.path}: system drive: holds /.*; pick another drive; if you really mean to erase this one, name it with --allow-system-drive$`));
        return true;
      },
    );
    assert.deepEqual(calls.filter((c) => c.startsWith('umount') || c.startsWith('blockdev')), []);
  });

  it('refuses the drive holding the image even when it is allowed as a system drive', async (t) => {
    const holder = (await listDrives({ image: { path: image.path, size: image.size } })).find((d) => d.holdsImage);
    if (!holder) {
      t.skip(`no listed drive holds ${image.path} (its filesystem is not on a whole drive here)`);
      return;
    }
    await assert.rejects(
      flashImage({ image: image.path, targets: [{ path: holder.path, size: holder.size }], allowSystemDrives: [holder.path] }, {
        deps: { openTarget: async () => assert.fail('the source drive must never be opened for writing'), exec: async () => ({ code: 1, stdout: '', stderr: '' }) },
      }),
      { kind: 'source-drive', message: `cannot flash ${holder.path}: holds the image file being flashed; copy the image to another drive first, or flash another drive` },
    );
  });

  it('refuses a read-only loop device', async () => {
    const ro = await loops.attach(`ro${n++}`, 32 * MiB, { readOnly: true, fill: garbage });
    await assert.rejects(flashImage(request(image.path, [ro])), {
      kind: 'read-only-drive',
      message: `cannot flash ${ro.path}: read-only; slide the write-protect switch off (or attach the loop device read-write) and try again`,
    });
  });

  it('refuses a drive smaller than the image', async () => {
    const small = await loops.attach(`small${n++}`, 16 * MiB, { fill: garbage });
    await assert.rejects(flashImage(request(image.path, [small])), {
      kind: 'drive-too-small',
      message: `cannot flash ${small.path}: too small: ${16 * MiB} bytes for a ${24 * MiB}-byte image; use a bigger drive`,
    });
    assert.ok(await untouched(small));
  });

  const notDrives: [string, () => Promise<string>, string][] = [
    ['a regular file', async () => {
      const p = join(dir, 'file.bin');
      await writeFile(p, Buffer.alloc(32 * MiB));
      return p;
    }, 'a regular file'],
    ['a directory', async () => dir, 'a directory'],
  ];
  for (const [name, make, what] of notDrives) {
    it(`refuses ${name} as a target`, async () => {
      const path = await make();
      await assert.rejects(flashImage({ image: image.path, targets: [{ path, size: 32 * MiB }] }), {
        kind: 'not-a-block-device',
        message: `cannot flash ${path}: it is ${what}, not a block device; name a whole drive such as /dev/sdb or /dev/mmcblk0 (see "coreforge drives")`,
      });
    });
  }

  it('refuses a target path that does not exist', async () => {
    await assert.rejects(flashImage({ image: image.path, targets: [{ path: '/dev/coreforge-no-such-drive', size: 1 }] }), {
      kind: 'drive-not-found',
      message: 'cannot open /dev/coreforge-no-such-drive: no such drive; check "coreforge drives" for the right path',
    });
  });

  it('refuses a missing image', async () => {
    const missing = join(dir, 'img', 'missing.img.xz');
    await assert.rejects(flashImage(request(missing, [target])), {
      kind: 'image-not-found',
      message: `cannot flash ${missing}: no such file; check the path, or build the image first with "coreforge build"`,
    });
  });

  for (const [kind, tool] of [['gzip', 'gzip'], ['xz', 'xz'], ['zstd', 'zstd']] as const) {
    it(`refuses a truncated ${kind} image before writing anything`, { skip: !haveTool(tool) && `${tool} is not installed` }, async () => {
      const sub = await mkdtemp(join(dir, `cut-${kind}-`));
      const img = await writeImage(join(sub, 'pi.img'), 24 * MiB, typicalRanges(24 * MiB), 21);
      const full = compressFile(img.path, kind);
      const bytes = await readFile(full);
      await writeFile(full, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
      await assert.rejects(flashImage(request(full, [target])), {
        kind: 'truncated-image',
        message: new RegExp(`^cannot flash ${full.replace(/\./g, '\\.')}: the ${kind} data ends too early \\(.*\\); the file is incomplete, download or copy it again$`),
      });
      assert.ok(await untouched(target));
    });
  }

  it('refuses a bmap whose own checksum does not match before writing anything', async () => {
    const bmapPath = join(dir, 'edited.bmap');
    await writeFile(bmapPath, bmapFor(image).replace('<MappedBlocksCount>', '<MappedBlocksCount> ').replace(/> (\d+)-(\d+) </, (_, a, b) => `> ${a}-${Number(b)} <`).replace('</bmap>', '</bmap>\n<!-- edited -->'));
    await assert.rejects(flashImage(request(image.path, [target], { bmap: bmapPath })), {
      kind: 'bmap-checksum-mismatch',
      message: new RegExp(`^cannot use bmap ${bmapPath}: its BmapFileChecksum is [0-9a-f]{64} but its content hashes to [0-9a-f]{64}; the bmap was edited or damaged, get it again with its image or regenerate it with "bmaptool create"$`),
    });
    assert.ok(await untouched(target));
  });

  it('refuses a bmap made for an image of another size before writing anything', async () => {
    const other = await writeImage(join(dir, 'img', 'other.img'), 20 * MiB, typicalRanges(20 * MiB), 5);
    const bmapPath = join(dir, 'other.bmap');
    await writeFile(bmapPath, bmapFor(other));
    await assert.rejects(flashImage(request(image.path, [target], { bmap: bmapPath })), {
      kind: 'bmap-mismatch',
      message: `cannot flash ${image.path} with bmap ${bmapPath}: the bmap's ImageSize is ${20 * MiB} bytes but the image is ${24 * MiB}; the bmap belongs to another image, use the one built with this image or pass --no-bmap`,
    });
    assert.ok(await untouched(target));
  });

  it('stops at the first range of a same-sized image that differs from the bmap, leaving no partition table', async () => {
    const loop = await loops.attach(`bm${n++}`, 32 * MiB, { fill: garbage });
    const twin = await writeImage(join(dir, 'img', 'twin.img'), 24 * MiB, typicalRanges(24 * MiB), 99);
    const bmapPath = join(dir, 'twin.bmap');
    await writeFile(bmapPath, bmapFor(twin));
    await assert.rejects(flashImage(request(image.path, [loop], { bmap: bmapPath })), {
      kind: 'bmap-mismatch',
      message: `cannot flash ${image.path}: its bytes 0-65535 do not match the bmap's checksum; the bmap belongs to another image or the image is damaged, use the bmap built with this image`,
    });
    const handle = await open(loop.backing, 'r');
    const head = Buffer.alloc(MiB);
    await handle.read(head, 0, MiB, 0);
    await handle.close();
    assert.ok(head.every((b) => b === 0));
  });

  it('refuses a drive whose size changed between listing and flashing', async () => {
    const loop = await loops.attach(`grow${n++}`, 32 * MiB, { fill: garbage });
    const listed = (await listDrives({ includeLoop: true })).find((d) => d.path === loop.path);
    assert.equal(listed?.size, 32 * MiB);
    await truncate(loop.backing, 48 * MiB);
    loops.resize(loop);
    await assert.rejects(flashImage({ image: image.path, targets: [{ path: listed.path, size: listed.size, serial: listed.serial }] }), {
      kind: 'drive-changed',
      message: `cannot flash ${loop.path}: it is now ${48 * MiB} bytes, not ${32 * MiB} as listed; the card was swapped or resized, list the drives again and check which one to flash`,
    });
    assert.ok(await untouched({ ...loop, size: 32 * MiB }));
  });

  it('refuses a partition instead of its whole drive', async (t) => {
    const loop = await loops.attach(`part${n++}`, 32 * MiB);
    try {
      execFileSync('sfdisk', ['-q', loop.path], { input: 'start=2048, size=20480, type=83\n' });
      execFileSync('losetup', ['-d', loop.path]);
      const path = execFileSync('losetup', ['-f', '--show', '-P', loop.backing], { encoding: 'utf8' }).trim();
      loop.path = path;
      loops.adopt(loop);
    } catch (err) {
      t.skip(`cannot partition a loop device here: ${String(err)}`);
      return;
    }
    const part = `${loop.path}p1`;
    await new Promise((r) => setTimeout(r, 200));
    if (!existsSync(part)) {
      t.skip(`the kernel did not scan ${loop.path}'s partitions (no partition support for loop devices here)`);
      return;
    }
    await assert.rejects(flashImage({ image: image.path, targets: [{ path: part, size: 10 * MiB }] }), {
      kind: 'not-a-whole-drive',
      message: `cannot flash ${part}: it is a partition of ${loop.path}; name the whole drive ${loop.path}`,
    });
  });

  it('refuses the same drive named twice', async () => {
    await assert.rejects(flashImage(request(image.path, [target, target])), {
      kind: 'drive-busy',
      message: `cannot flash ${target.path} twice in one flash; name each drive once`,
    });
  });

  it('unmounts a mounted drive before writing it', async (t) => {
    const loop = await loops.attach(`mnt${n++}`, 32 * MiB);
    const mnt = join(dir, `mnt${n}`);
    await mkdir(mnt);
    try {
      execFileSync('mkfs.ext4', ['-q', loop.path]);
      execFileSync('mount', [loop.path, mnt]);
    } catch (err) {
      t.skip(`cannot make and mount a filesystem here: ${String(err)}`);
      return;
    }
    try {
      const result = await flashImage(request(image.path, [loop]));
      assert.equal(result.targets[0]!.ok, true);
      assert.ok(!(await readFile('/proc/mounts', 'utf8')).includes(` ${mnt} `), 'the filesystem was unmounted');
    } finally {
      try {
        execFileSync('umount', [mnt], { stdio: 'ignore' });
      } catch {
        // unmounted by the flash
      }
    }
  });
});
