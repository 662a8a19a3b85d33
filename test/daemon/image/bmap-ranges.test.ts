import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { blockRangeBytes, toBlockRanges } from '../../../daemon/image/bmap-ranges.js';

describe('toBlockRanges', () => {
  test('widens byte ranges to whole blocks and merges overlapping and adjacent ones', () => {
    const ranges = toBlockRanges(
      [
        { start: 8192, end: 8192 + 1 },
        { start: 0, end: 440 },
        { start: 446, end: 446 + 66 },
        { start: 4096, end: 4096 + 4096 },
        { start: 40960, end: 40960 + 8192 },
        { start: 45000, end: 45000 + 10 },
      ],
      4096,
      1 << 20,
    );
    assert.deepEqual(ranges, [
      { first: 0, last: 2 },
      { first: 10, last: 11 },
    ]);
  });

  test('drops empty ranges and clips ranges to the image', () => {
    assert.deepEqual(
      toBlockRanges(
        [
          { start: 100, end: 100 + 0 },
          { start: 9000, end: 9000 + 5000 },
          { start: 20000, end: 20000 + 10 },
        ],
        4096,
        10000,
      ),
      [{ first: 2, last: 2 }],
    );
  });

  test('gives the bytes of a range, the last block clipped to the image size', () => {
    assert.deepEqual(blockRangeBytes({ first: 1, last: 2 }, 4096, 10000), { start: 4096, end: 10000 });
    assert.deepEqual(blockRangeBytes({ first: 0, last: 0 }, 4096, 10000), { start: 0, end: 4096 });
  });

  test('rejects a block size that is not positive', () => {
    assert.throws(() => toBlockRanges([], 0, 100), { message: 'cannot use block size 0: use a positive block size such as 4096' });
  });
});
