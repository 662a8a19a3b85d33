import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clipRanges, formatRange, mergeRanges, rangesBytes, splitRanges } from '../../../daemon/flash/ranges.js';

describe('byte ranges', () => {
  it('formats a range inclusively, as dd and bmaptool count', () => {
    assert.equal(formatRange({ start: 4096, end: 8192 }), 'bytes 4096-8191');
  });

  it('merges touching and overlapping ranges and keeps gaps', () => {
    assert.deepEqual(mergeRanges([{ start: 10, end: 20 }, { start: 0, end: 10 }, { start: 15, end: 30 }, { start: 40, end: 50 }]), [
      { start: 0, end: 30 },
      { start: 40, end: 50 },
    ]);
  });

  it('splits ranges at every multiple of the piece size', () => {
    assert.deepEqual(splitRanges([{ start: 3, end: 25 }], 10), [
      { start: 3, end: 10 },
      { start: 10, end: 20 },
      { start: 20, end: 25 },
    ]);
  });

  it('clips ranges to a limit and counts their bytes', () => {
    const clipped = clipRanges([{ start: 0, end: 10 }, { start: 20, end: 40 }, { start: 50, end: 60 }], 30);
    assert.deepEqual(clipped, [{ start: 0, end: 10 }, { start: 20, end: 30 }]);
    assert.equal(rangesBytes(clipped), 20);
  });
});
