import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { bufferAlignment, sharedAlignedBuffers } from '../../../daemon/flash/aligned.js';
import { sharedHasher } from '../../../daemon/flash/hash-worker.js';
import { MiB, pseudoRandom } from './images.js';

describe('read-back hashing thread', () => {
  it('gives page-aligned buffers in one shared memory', () => {
    const { memory, buffers } = sharedAlignedBuffers(2, 8192);
    assert.ok(memory instanceof SharedArrayBuffer);
    assert.deepEqual(buffers.map((b) => [b.buffer === memory, b.byteOffset % bufferAlignment, b.length]), [[true, 0, 8192], [true, 0, 8192]]);
  });

  it('hashes the bytes written into its buffers, a digest per final update, as createHash does', async () => {
    const data = pseudoRandom(3 * MiB + 123, 9);
    const hasher = sharedHasher(2, 2 * MiB);
    try {
      // the first range spans 3 updates over both buffers; the second starts a new digest
      const answers: (string | null)[] = [];
      for (const [i, [from, to, final]] of ([[0, MiB, false], [MiB, 2 * MiB, false], [2 * MiB, 2 * MiB + 100, true], [2 * MiB + 100, 3 * MiB + 123, true]] as const).entries()) {
        const buf = hasher.buffers[i % 2]!;
        data.copy(buf, 5, from, to);
        answers.push(await hasher.update(i % 2, 5, 5 + to - from, 'sha256', final));
      }
      const sha = (a: number, b: number) => createHash('sha256').update(data.subarray(a, b)).digest('hex');
      assert.deepEqual(answers, [null, null, sha(0, 2 * MiB + 100), sha(2 * MiB + 100, 3 * MiB + 123)]);
    } finally {
      await hasher.close();
    }
  });

  it('fails updates after it was closed', async () => {
    const hasher = sharedHasher(2, 4096);
    await hasher.close();
    await assert.rejects(hasher.update(0, 0, 10, 'sha1', true), { message: 'the read-back hashing thread was closed' });
  });
});
