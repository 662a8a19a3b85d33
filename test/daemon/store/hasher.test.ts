import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { inlineHasher, workerHasher } from '../../../daemon/store/client/hasher.js';

describe('download hashers', () => {
  it('give the same SHA3-384 in a worker as inline, across uneven chunks and a small in-flight limit', async () => {
    const data = randomBytes(5 * 1024 * 1024 + 123);
    const want = createHash('sha3-384').update(data).digest('base64url');
    const w = workerHasher(256 * 1024, 64 * 1024);
    const i = inlineHasher();
    for (let off = 0, step = 1; off < data.length; off += step, step = (step * 7 + 13) % 200_000 + 1) {
      const chunk = data.subarray(off, off + step);
      w.update(chunk);
      i.update(chunk);
      if (w.full()) await w.room();
    }
    assert.equal(await w.digest(), want);
    assert.equal(await i.digest(), want);
  });
});

describe('handing whole buffers to the hashers', () => {
  it('keeps the order of copied chunks and given buffers, and hands the given memory back for reuse', async () => {
    const data = randomBytes(3 * 1024 * 1024 + 77);
    const want = createHash('sha3-384').update(data).digest('base64url');
    for (const h of [workerHasher(512 * 1024, 64 * 1024), inlineHasher()]) {
      let off = 0;
      for (let i = 0; off < data.length; i++) {
        const n = Math.min(data.length - off, i % 3 === 0 ? 1000 : 256 * 1024);
        const chunk = data.subarray(off, off + n);
        if (i % 3 === 0) h.update(chunk);
        else {
          // a buffer that owns its memory, given away (the last one shorter than its memory)
          const own = Buffer.allocUnsafeSlow(256 * 1024);
          chunk.copy(own);
          h.give(own.subarray(0, n));
        }
        off += n;
        if (h.full()) await h.room();
      }
      assert.equal(await h.digest(), want);
      const spare = h.spare();
      assert.ok(spare === undefined || spare.length === 256 * 1024);
    }
  });
});
