import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { flashError } from '../../../daemon/flash/errors.js';
import type { FlashProgress } from '../../../daemon/flash/progress.js';
import type { ByteRange } from '../../../daemon/flash/ranges.js';
import type { Chunk } from '../../../daemon/flash/source.js';
import { writeImage } from '../../../daemon/flash/writer.js';
import { MiB, pseudoRandom } from './images.js';
import { MemoryTarget } from './memory-target.js';

const image = pseudoRandom(24 * MiB, 3);

async function* chunksOf(data: Buffer, ranges: ByteRange[] = [{ start: 0, end: data.length }], size = 3 * MiB + 512, fail?: { at: number; error: Error }): AsyncGenerator<Chunk> {
  for (const r of ranges) {
    for (let at = r.start; at < r.end; at += size) {
      if (fail && at >= fail.at) throw fail.error;
      yield { offset: at, data: data.subarray(at, Math.min(r.end, at + size)), consumed: at };
    }
  }
}

describe('multi-target writer', () => {
  it('writes one read of the image to every target, the first MiB last after a flush', async () => {
    const targets = [new MemoryTarget('/dev/a', 32 * MiB), new MemoryTarget('/dev/b', 32 * MiB)];
    const outcomes = await writeImage(chunksOf(image), targets, { imageSize: image.length, total: image.length });
    assert.deepEqual(outcomes.map((o) => [o.path, o.bytesWritten, o.error]), [['/dev/a', image.length, null], ['/dev/b', image.length, null]]);
    for (const t of targets) {
      assert.ok(t.bytes.subarray(0, image.length).equals(image), `${t.path} holds the image`);
      const ops = t.ops;
      assert.deepEqual(ops.slice(-3), [{ op: 'flush' }, { op: 'write', start: 0, end: MiB }, { op: 'flush' }]);
      assert.ok(t.dataWrites().slice(0, -1).every((w) => w.start >= MiB), 'nothing lands in the first MiB before the end');
    }
  });

  it('zeroes the first and last MiB and flushes before writing any data', async () => {
    const target = new MemoryTarget('/dev/a', 32 * MiB);
    let seenAtFirstData: Buffer | null = null;
    target.beforeWrite = (offset) => {
      if (offset === MiB && !seenAtFirstData) seenAtFirstData = Buffer.from(target.bytes);
    };
    await writeImage(chunksOf(image), [target], { imageSize: image.length, total: image.length });
    assert.deepEqual(target.ops.slice(0, 3), [{ op: 'write', start: 0, end: MiB }, { op: 'write', start: 31 * MiB, end: 32 * MiB }, { op: 'flush' }]);
    const before = seenAtFirstData as Buffer | null;
    assert.ok(before);
    assert.ok(before.subarray(0, MiB).every((b) => b === 0) && before.subarray(31 * MiB).every((b) => b === 0));
    assert.ok(target.bytes.subarray(31 * MiB).every((b) => b === 0), 'the old backup GPT area stays zero past the image');
  });

  it('writes only the ranges it is given, in large aligned writes', async () => {
    const ranges = [{ start: 0, end: 4096 }, { start: 2 * MiB, end: 9 * MiB }, { start: 20 * MiB, end: 20 * MiB + 8192 }];
    const target = new MemoryTarget('/dev/a', 32 * MiB);
    await writeImage(chunksOf(image, ranges, 100_000), [target], { imageSize: image.length, total: 7 * MiB + 12288 });
    for (const r of ranges) assert.ok(target.bytes.subarray(r.start, r.end).equals(image.subarray(r.start, r.end)));
    assert.ok(target.bytes.subarray(9 * MiB, 20 * MiB).every((b) => b === 0xaa), 'holes are not written');
    assert.ok(target.bytes.subarray(4096, MiB).every((b) => b === 0), 'the first MiB is zero where the image has no data');
    assert.deepEqual(target.dataWrites().map((w) => [w.start, w.end - w.start]), [[2 * MiB, 4 * MiB], [6 * MiB, 3 * MiB], [20 * MiB, 8192], [0, MiB]]);
  });

  it('records a failing target with its byte range and finishes the others', async () => {
    const targets = [new MemoryTarget('/dev/a', 32 * MiB), new MemoryTarget('/dev/b', 32 * MiB), new MemoryTarget('/dev/c', 32 * MiB)];
    targets[1]!.failAt = 10 * MiB;
    const outcomes = await writeImage(chunksOf(image), targets, { imageSize: image.length, total: image.length });
    assert.equal(outcomes[1]!.error?.message, 'cannot write /dev/b at bytes 8388608-12582911: the drive was removed; plug it in again and flash it again');
    assert.equal(outcomes[1]!.bytesWritten, 7 * MiB, 'MiB 1-8 were written; the first is held back');
    assert.ok(targets[1]!.bytes.subarray(0, MiB).every((b) => b === 0), 'the failed target keeps a zeroed start: no partition table');
    for (const i of [0, 2]) {
      assert.equal(outcomes[i]!.error, null);
      assert.ok(targets[i]!.bytes.subarray(0, image.length).equals(image));
    }
  });

  it('stops promptly on abort and leaves the first MiB zeroed', async () => {
    const target = new MemoryTarget('/dev/a', 32 * MiB);
    const controller = new AbortController();
    const seen: FlashProgress[] = [];
    await assert.rejects(
      writeImage(chunksOf(image), [target], { imageSize: image.length, total: image.length, onProgress: (_, p) => {
        seen.push(p);
        if (p.bytes >= 8 * MiB) controller.abort();
      } }, controller.signal),
      { kind: 'aborted', message: 'the flash was aborted; start it again to finish' },
    );
    assert.ok(target.bytes.subarray(0, MiB).every((b) => b === 0));
    const written = target.dataWrites().reduce((n, w) => Math.max(n, w.end), 0);
    assert.ok(written >= 8 * MiB && written < image.length, `stopped mid-way (wrote up to ${written})`);
    assert.ok(seen.every((p) => p.phase === 'flashing' && p.total === image.length));
  });

  it('throws the source error after settling the writes in flight, without writing the first MiB', async () => {
    const target = new MemoryTarget('/dev/a', 32 * MiB);
    const error = flashError('truncated-image', 'cannot flash pi.img.xz: the xz data ends too early');
    await assert.rejects(writeImage(chunksOf(image, undefined, undefined, { at: 12 * MiB, error }), [target], { imageSize: image.length, total: image.length }), error);
    assert.ok(target.bytes.subarray(0, MiB).every((b) => b === 0));
    assert.ok(!target.dataWrites().some((w) => w.start === 0));
  });

  it('reports progress per target up to the total', async () => {
    const targets = [new MemoryTarget('/dev/a', 32 * MiB), new MemoryTarget('/dev/b', 32 * MiB)];
    const last = new Map<string, FlashProgress>();
    await writeImage(chunksOf(image), targets, { imageSize: image.length, total: image.length, onProgress: (t, p) => last.set(t, p) });
    assert.deepEqual([...last.keys()].sort(), ['/dev/a', '/dev/b']);
    for (const p of last.values()) assert.deepEqual([p.phase, p.bytes, p.total], ['flashing', image.length, image.length]);
  });
});
