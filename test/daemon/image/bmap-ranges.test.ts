import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { blockRangeBytes, toBlockRanges } from '../../../daemon/image/bmap-ranges.js';

describe('toBlockRanges', () => {
  test('widens byte ranges to whole blocks and merges overlapping and adjacent ones', () => {
    const ranges = toBlockRanges(
      [
        { offset: 8192, length: 1 },
        { offset: 0, length: 440 },
        { offset: 446, length: 66 },
        { offset: 4096, length: 4096 },
        { offset: 40960, length: 8192 },
        { offset: 45000, length: 10 },
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
          { offset: 100, length: 0 },
          { offset: 9000, length: 5000 },
          { offset: 20000, length: 10 },
        ],
        4096,
        10000,
      ),
      [{ first: 2, last: 2 }],
    );
  });

  test('gives the bytes of a range, the last block clipped to the image size', () => {
    assert.deepEqual(blockRangeBytes({ first: 1, last: 2 }, 4096, 10000), { offset: 4096, length: 5904 });
    assert.deepEqual(blockRangeBytes({ first: 0, last: 0 }, 4096, 10000), { offset: 0, length: 4096 });
  });

  test('rejects a block size that is not positive', () => {
    assert.throws(() => toBlockRanges([], 0, 100), { message: 'cannot use block size 0: use a positive block size such as 4096' });
  });
});
