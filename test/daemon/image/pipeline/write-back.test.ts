import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { startWriteBack } from '../../../../daemon/image/pipeline/write-back.js';
import { makeTempDir } from '../../../helpers/tmp.js';

test('writing back a file while it is written leaves its content as written, and finish() flushes what came last', async (t) => {
  const tmp = await makeTempDir('coreforge-write-back-');
  t.after(() => tmp.cleanup());
  const path = join(tmp.dir, 'image');
  const fd = openSync(path, 'w+');
  try {
    const writeBack = startWriteBack(fd);
    const block = Buffer.alloc(64 * 1024, 7);
    for (let i = 0; i < 64; i++) {
      writeSync(fd, block, 0, block.length, i * block.length);
      await new Promise((r) => setImmediate(r));
    }
    await writeBack.finish();
    await writeBack.stop();
  } finally {
    closeSync(fd);
  }
  assert.deepEqual(readFileSync(path), Buffer.alloc(64 * 64 * 1024, 7));
});

test('a flush that fails fails finish() with its error, and stop() still ends the write-back', async () => {
  // /dev/null takes writes, and fdatasync cannot flush it (EINVAL): a stand-in for a disk that fails (EIO, ENOSPC).
  const fd = openSync('/dev/null', 'w');
  try {
    const writeBack = startWriteBack(fd);
    await assert.rejects(writeBack.finish(), { code: 'EINVAL' });
    await writeBack.stop();
  } finally {
    closeSync(fd);
  }
});
