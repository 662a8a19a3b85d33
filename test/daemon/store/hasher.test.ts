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
