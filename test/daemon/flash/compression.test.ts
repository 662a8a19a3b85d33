import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compressionSuffix, detectCompression } from '../../../daemon/flash/compression.js';

const gz = Uint8Array.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0]);
const xz = Uint8Array.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 0, 4]);
const zst = Uint8Array.from([0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0, 0]);
const mbr = Uint8Array.from([0xeb, 0x63, 0x90, 0, 0, 0, 0, 0]);

describe('compression detection', () => {
  it('decides by the first bytes', () => {
    assert.equal(detectCompression('pi.img.gz', gz), 'gzip');
    assert.equal(detectCompression('pi.img.xz', xz), 'xz');
    assert.equal(detectCompression('pi.img.zst', zst), 'zstd');
    assert.equal(detectCompression('pi.img', mbr), 'none');
    assert.equal(detectCompression('download', xz), 'xz');
  });

  it('finds the compression suffix of a name', () => {
    assert.deepEqual(['a.img.xz', 'a.img.ZST', 'a.img.zstd', 'a.img', 'a.gz.img'].map(compressionSuffix), ['.xz', '.zst', '.zstd', '', '']);
  });

  const bad: [string, string, Uint8Array, string, string][] = [
    ['a name promising xz on raw bytes', 'pi.img.xz', mbr, 'unsupported-image', 'cannot flash pi.img.xz: its name ends in .xz but its content is not compressed; rename it to match its content or fetch the image again'],
    ['a name promising gzip on xz bytes', 'pi.img.gz', xz, 'unsupported-image', 'cannot flash pi.img.gz: its name ends in .gz but its content is xz; rename it to match its content or fetch the image again'],
    ['an empty .zst file', 'pi.img.zst', new Uint8Array(0), 'truncated-image', 'cannot flash pi.img.zst: the file is only 0 bytes, too short to be zstd data; download or copy the image again'],
    ['a zip archive', 'pi.zip', Uint8Array.from([0x50, 0x4b, 3, 4, 0, 0]), 'unsupported-image', 'cannot flash pi.zip: zip archives cannot be streamed to a drive; extract the .img first, or recompress it with xz, gzip or zstd'],
  ];
  for (const [name, path, head, kind, message] of bad) {
    it(`refuses ${name}`, () => {
      assert.throws(() => detectCompression(path, head), { kind, message });
    });
  }
});
