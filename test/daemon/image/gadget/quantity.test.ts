import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { iecString, parseOffset, parseRelativeOffset, parseSize } from '../../../../daemon/image/gadget/quantity.js';

describe('gadget quantities', () => {
  test('reads bytes, mebibytes and gibibytes', () => {
    assert.deepEqual(parseSize('440'), { ok: true, value: 440 });
    assert.deepEqual(parseSize('50M'), { ok: true, value: 50 * 1024 * 1024 });
    assert.deepEqual(parseSize('1G'), { ok: true, value: 1024 ** 3 });
    assert.deepEqual(parseOffset('0'), { ok: true, value: 0 });
  });

  const bad: [string, string][] = [
    ['', 'cannot parse size "": no numerical prefix'],
    ['K', 'cannot parse size "K": no numerical prefix'],
    ['1K', 'cannot parse size "1K": invalid suffix "K"'],
    ['1m', 'cannot parse size "1m": invalid suffix "m"'],
    ['-5', 'cannot parse size "-5": size cannot be negative'],
    ['1-2', 'cannot parse size "1-2": "1-2" is not a number'],
    ['99999999999999999G', 'cannot parse size "99999999999999999G": size is too large'],
  ];
  for (const [text, error] of bad) {
    test(`rejects size "${text}"`, () => assert.deepEqual(parseSize(text), { ok: false, error }));
  }

  test('reads offset-write as absolute or relative to a named structure', () => {
    assert.deepEqual(parseRelativeOffset('mbr+92'), { ok: true, value: { relativeTo: 'mbr', offset: 92 } });
    assert.deepEqual(parseRelativeOffset('1M'), { ok: true, value: { relativeTo: '', offset: 1024 * 1024 } });
  });

  const badRelative: [string, string][] = [
    ['+92', 'cannot parse relative offset "+92": missing volume name'],
    ['mbr+', 'cannot parse relative offset "mbr+": missing offset'],
    ['mbr+x', 'cannot parse relative offset "mbr+x": cannot parse offset "x": no numerical prefix'],
    ['5G', 'cannot parse relative offset "5G": offset above 4G limit'],
  ];
  for (const [text, error] of badRelative) {
    test(`rejects offset-write "${text}"`, () => assert.deepEqual(parseRelativeOffset(text), { ok: false, error }));
  }

  test('prints sizes in IEC units like snapd', () => {
    assert.equal(iecString(100), '100 B');
    assert.equal(iecString(1536), '1.50 KiB');
    assert.equal(iecString(258 * 1024 * 1024), '258 MiB');
  });
});
