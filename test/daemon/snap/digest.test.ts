import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { snapFileDigest } from '../../../daemon/snap/digest.js';
import { inlineHasher, workerHasher } from '../../../daemon/store/client/hasher.js';
import { makeTempDir } from '../../helpers/tmp.js';

test('a snap file digest is OpenSSL\'s SHA3-384 in base64url, and a download\'s hasher agrees', async (t) => {
  const tmp = await makeTempDir('coreforge-snapdigest-');
  t.after(() => tmp.cleanup());
  const data = randomBytes(3 * 1024 * 1024 + 17);
  const file = join(tmp.dir, 'x.snap');
  await writeFile(file, data);
  const hex = execFileSync('openssl', ['dgst', '-sha3-384', '-r', file], { encoding: 'utf8' }).split(' ')[0]!;
  const expected = Buffer.from(hex, 'hex').toString('base64url');
  assert.deepEqual(await snapFileDigest(file), { sha3_384: expected, size: data.length });
  for (const h of [inlineHasher(), workerHasher()]) {
    h.update(data.subarray(0, 1000));
    h.update(data.subarray(1000));
    assert.equal(await h.digest(), expected);
  }
});
