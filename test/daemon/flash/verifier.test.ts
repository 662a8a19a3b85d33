import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileSource } from '../../../daemon/flash/file-source.js';
import { type RangeDigest, splitRanges } from '../../../daemon/flash/ranges.js';
import { locateDifferences, verifyHasher, verifyTarget } from '../../../daemon/flash/verifier.js';
import { MiB, pseudoRandom } from './images.js';
import { MemoryTarget } from './memory-target.js';

const image = pseudoRandom(8 * MiB + 1000, 5); // ends inside a block: reads are aligned past the end

function digests(data: Buffer, size = MiB): RangeDigest[] {
  return splitRanges([{ start: 0, end: data.length }], size).map((r) => ({
    ...r,
    algorithm: 'sha256' as const,
    digest: createHash('sha256').update(data.subarray(r.start, r.end)).digest('hex'),
  }));
}

describe('read-back verifier', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'coreforge-verify-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  function flashed(): MemoryTarget {
    const target = new MemoryTarget('/dev/a', 16 * MiB);
    image.copy(target.bytes);
    return target;
  }

  it('finds nothing on a drive that holds the image', async () => {
    assert.deepEqual(await verifyTarget(flashed(), digests(image), { readSize: 3 * MiB }), []);
  });

  it('reports the ranges whose digest differs, merged', async () => {
    const target = flashed();
    target.bytes[2 * MiB + 5] = (target.bytes[2 * MiB + 5]! + 1) & 0xff;
    target.bytes.fill(0, 3 * MiB + 100, 4 * MiB + 200);
    target.bytes[8 * MiB + 999] = (target.bytes[8 * MiB + 999]! + 1) & 0xff;
    assert.deepEqual(await verifyTarget(target, digests(image)), [
      { start: 2 * MiB, end: 5 * MiB },
      { start: 8 * MiB, end: 8 * MiB + 1000 },
    ]);
  });

  it('narrows mismatching ranges to the exact bytes that differ', async () => {
    const target = flashed();
    target.bytes[2 * MiB + 5] = (target.bytes[2 * MiB + 5]! + 1) & 0xff;
    for (let i = 3 * MiB + 100; i < 4 * MiB + 200; i++) target.bytes[i] = i % 7 === 0 ? image[i]! : ~image[i]! & 0xff; // some bytes match by chance
    target.bytes[6 * MiB] = ~image[6 * MiB]! & 0xff;
    target.bytes[6 * MiB + 4097] = ~image[6 * MiB + 4097]! & 0xff; // 4096 equal bytes apart: a separate range
    const path = join(dir, 'img');
    await writeFile(path, image);
    const coarse = await verifyTarget(target, digests(image));
    assert.deepEqual(await locateDifferences(target, fileSource(path, image.length), coarse), [
      { start: 2 * MiB + 5, end: 2 * MiB + 6 },
      { start: 3 * MiB + 101, end: 4 * MiB + 200 }, // 3 MiB + 100 is a multiple of 7: that byte was left equal
      { start: 6 * MiB, end: 6 * MiB + 1 },
      { start: 6 * MiB + 4097, end: 6 * MiB + 4098 },
    ]);
  });

  it('reports verifying progress to the mapped total', async () => {
    let last = null as null | { bytes: number; total: number | null; phase: string };
    await verifyTarget(flashed(), digests(image), { onProgress: (_, p) => (last = p) });
    assert.deepEqual(last && [last.phase, last.bytes, last.total], ['verifying', image.length, image.length]);
  });

  it('uses a hashing thread started by the caller and leaves it open for the next drive', async () => {
    const hasher = verifyHasher(3 * MiB);
    try {
      assert.deepEqual(await verifyTarget(flashed(), digests(image), { readSize: 3 * MiB, hasher }), []);
      const damaged = flashed();
      damaged.bytes[7 * MiB] = ~image[7 * MiB]! & 0xff;
      assert.deepEqual(await verifyTarget(damaged, digests(image), { readSize: 3 * MiB, hasher }), [{ start: 7 * MiB, end: 8 * MiB }]);
    } finally {
      await hasher.close();
    }
  });

  it('refuses a hashing thread whose buffers are smaller than its reads', async () => {
    const hasher = verifyHasher(MiB);
    try {
      await assert.rejects(verifyTarget(flashed(), digests(image), { readSize: 4 * MiB, hasher }), { message: 'verify hasher buffers are smaller than the read size 4194304 + 4096' });
    } finally {
      await hasher.close();
    }
  });

  it('stops on abort', async () => {
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(verifyTarget(flashed(), digests(image), {}, controller.signal), { kind: 'aborted', message: 'verifying /dev/a was aborted; start it again to finish' });
  });
});
