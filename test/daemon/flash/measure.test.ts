import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { measureImageSize } from '../../../daemon/flash/measure.js';
import { openImageSource } from '../../../daemon/flash/open-source.js';
import type { FlashProgress } from '../../../daemon/flash/progress.js';
import { makeTempDir } from '../../helpers/tmp.js';
import { compressFile, MiB, typicalRanges, writeImage } from './images.js';

describe('measuring an image whose size is not recorded', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  before(async () => ({ dir, cleanup } = await makeTempDir()));
  after(() => cleanup());

  it('counts the bytes a gzip image decompresses to, reporting how far through the file it is', async () => {
    const image = await writeImage(join(dir, 'pi.img'), 24 * MiB, typicalRanges(24 * MiB));
    const opened = await openImageSource(compressFile(image.path, 'gzip'));
    const reports: FlashProgress[] = [];
    try {
      assert.equal(await measureImageSize(opened.source, (p) => reports.push(p)), image.size);
    } finally {
      opened.close();
    }
    assert.ok(reports.length > 1, `${reports.length} reports`);
    assert.ok(reports.every((p) => p.phase === 'decompressing' && p.total === null), 'the total is what is being measured');
    const fractions = reports.map((p) => p.fraction ?? -1);
    assert.ok(fractions.every((f, i) => f > 0 && f <= 1 && (i === 0 || f >= fractions[i - 1]!)), `fractions rise: ${fractions.join(' ')}`);
    assert.deepEqual([reports.at(-1)!.bytes, fractions.at(-1)], [image.size, 1]);
  });
});
