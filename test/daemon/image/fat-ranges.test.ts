// The ranges of a FAT filesystem read from its own tables must hold everything mkfs.vfat and mcopy
// wrote, and be enough on their own: copied onto a "card" full of old garbage, the filesystem must
// check clean and give back the same files.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, ftruncateSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { ByteRange } from '../../../daemon/flash/ranges.js';
import { fatContentRanges, fatGeometry } from '../../../daemon/image/fat-ranges.js';

const dir = mkdtempSync(join(tmpdir(), 'coreforge-fat-ranges-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const MiB = 1024 * 1024;
const env = { ...process.env, MTOOLS_SKIP_CHECK: '1' };

function readAtFile(path: string) {
  return async (offset: number, length: number) => {
    const fd = openSync(path, 'r');
    try {
      const buf = Buffer.alloc(length);
      const n = readSync(fd, buf, 0, length, offset);
      return buf.subarray(0, n);
    } finally {
      closeSync(fd);
    }
  };
}

/** A vfat image of `sizeMiB` with a few files (one of several clusters, one empty, a directory). */
function vfatImage(name: string, sizeMiB: number, mkfsArgs: string[]): string {
  const image = join(dir, `${name}.img`);
  rmSync(image, { force: true });
  execFileSync('mkfs.vfat', ['-C', ...mkfsArgs, image, String(sizeMiB * 1024)], { stdio: 'ignore' });
  const tree = join(dir, `${name}-tree`);
  mkdirSync(join(tree, 'sub/deeper'), { recursive: true });
  writeFileSync(join(tree, 'big.bin'), Buffer.alloc(700 * 1024, 0x5a));
  writeFileSync(join(tree, 'empty'), '');
  writeFileSync(join(tree, 'sub/deeper/small.txt'), 'hello\n');
  execFileSync('mcopy', ['-i', image, '-s', '-o', '-Q', join(tree, 'big.bin'), join(tree, 'empty'), join(tree, 'sub'), '::/'], { env });
  return image;
}

/** Non-zero 4 KiB blocks of a file that no range covers. */
function uncovered(image: string, ranges: ByteRange[]): number[] {
  const bytes = readFileSync(image);
  const out: number[] = [];
  for (let at = 0; at < bytes.length; at += 4096) {
    const block = bytes.subarray(at, at + 4096);
    if (block.every((b) => b === 0)) continue;
    for (let i = 0; i < block.length; i++) {
      if (block[i] === 0) continue;
      if (!ranges.some((r) => r.start <= at + i && at + i < r.end)) {
        out.push(at);
        break;
      }
    }
  }
  return out;
}

/** Copies only `ranges` of `image` onto a same-size file full of 0xA5 (a used card). */
function copyOntoGarbage(image: string, ranges: ByteRange[]): string {
  const bytes = readFileSync(image);
  const target = join(dir, 'card.img');
  const fd = openSync(target, 'w');
  ftruncateSync(fd, 0);
  writeSync(fd, Buffer.alloc(bytes.length, 0xa5), 0, bytes.length, 0);
  for (const r of ranges) writeSync(fd, bytes, r.start, r.end - r.start, r.start);
  closeSync(fd);
  return target;
}

describe('FAT content ranges', () => {
  for (const [name, sizeMiB, args, bits] of [
    ['fat32', 40, ['-F', '32', '-S', '512', '-s', '1'], 32],
    ['fat16', 16, ['-F', '16'], 16],
    ['fat12', 2, ['-F', '12'], 12],
  ] as const) {
    test(`${name}: cover every byte mkfs.vfat and mcopy wrote, and rebuild the filesystem on a used card`, async () => {
      const image = vfatImage(name, sizeMiB, [...args]);
      const readAt = readAtFile(image);
      assert.equal(fatGeometry(await readAt(0, 512)).fatBits, bits);
      const ranges = await fatContentRanges(readAt);
      assert.deepEqual(uncovered(image, ranges), []);
      const mapped = ranges.reduce((n, r) => n + r.end - r.start, 0);
      assert.ok(mapped < sizeMiB * MiB / 2, `only the metadata and the used clusters are mapped (${mapped} bytes)`);
      const card = copyOntoGarbage(image, ranges);
      execFileSync('fsck.vfat', ['-n', card], { stdio: 'pipe' });
      assert.ok(execFileSync('mcopy', ['-n', '-i', card, '::/big.bin', '-'], { env }).equals(Buffer.alloc(700 * 1024, 0x5a)));
      assert.equal(execFileSync('mcopy', ['-n', '-i', card, '::/sub/deeper/small.txt', '-'], { env }).toString(), 'hello\n');
    });
  }

  test('refuses what is not a FAT boot sector', () => {
    assert.throws(() => fatGeometry(Buffer.alloc(512)), /not a FAT filesystem: no boot sector signature/);
    const boot = Buffer.alloc(512);
    boot[510] = 0x55;
    boot[511] = 0xaa;
    boot.writeUInt16LE(300, 11);
    assert.throws(() => fatGeometry(boot), /bytes per sector 300/);
  });
});
