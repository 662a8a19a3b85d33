import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadState } from '../../../../daemon/image/pipeline/state.js';
import { makeTempDir } from '../../../helpers/tmp.js';

const volume = (written: unknown[]) => ({ version: 2, fingerprint: 'f', done: ['build-volumes'], timings: {}, warnings: [], outputs: [], volumes: [{ name: 'pc', size: 8192, written, partitions: [], diskId: 'x' }] });

test('a saved state keeps its written byte ranges as {start, end}, and one with {offset, length} ranges is refused, not misread', async (t) => {
  const tmp = await makeTempDir('coreforge-state-');
  t.after(() => tmp.cleanup());
  const path = join(tmp.dir, 'state.json');
  await writeFile(path, JSON.stringify(volume([{ start: 0, end: 4096 }])));
  assert.deepEqual((await loadState(path))?.volumes?.[0]?.written, [{ start: 0, end: 4096 }]);
  await writeFile(path, JSON.stringify(volume([{ offset: 0, length: 4096 }])));
  await assert.rejects(loadState(path), {
    kind: 'invalid-workdir',
    message: `cannot resume the build: its saved state ${path} is damaged (its byte ranges are of an older coreforged); start again without --resume`,
  });
});

test('a saved state keeps the bmap ranges build-volumes hashed; one without them (an older coreforged\'s) loads, one with damaged ranges is refused', async (t) => {
  const tmp = await makeTempDir('coreforge-state-');
  t.after(() => tmp.cleanup());
  const path = join(tmp.dir, 'state.json');
  const bmap = { imageSize: 8192, blockSize: 4096, ranges: [{ first: 0, last: 0, sha256: 'ab'.repeat(32) }] };
  const withBmap = (b: unknown) => {
    const s = volume([{ start: 0, end: 4096 }]);
    return { ...s, volumes: s.volumes.map((v) => ({ ...v, bmap: b })) };
  };
  await writeFile(path, JSON.stringify(withBmap(bmap)));
  assert.deepEqual((await loadState(path))?.volumes?.[0]?.bmap, bmap);
  await writeFile(path, JSON.stringify(volume([{ start: 0, end: 4096 }])));
  assert.equal((await loadState(path))?.volumes?.[0]?.bmap, undefined);
  for (const damaged of [{ ...bmap, ranges: [{ first: 0, last: 0, sha256: 'x' }] }, { ...bmap, ranges: [{ first: 1, last: 0, sha256: 'ab'.repeat(32) }] }, { ...bmap, blockSize: '4096' }, { ...bmap, ranges: null }, null]) {
    await writeFile(path, JSON.stringify(withBmap(damaged)));
    await assert.rejects(loadState(path), {
      kind: 'invalid-workdir',
      message: `cannot resume the build: its saved state ${path} is damaged (its bmap ranges are not ranges with a SHA-256); start again without --resume`,
    });
  }
});
