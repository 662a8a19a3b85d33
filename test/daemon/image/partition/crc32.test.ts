import assert from 'node:assert/strict';
import { test } from 'node:test';
import { crc32 } from '../../../../daemon/image/partition/crc32.js';

test('crc32 gives the IEEE check value for "123456789" and 0 for no bytes', () => {
  assert.equal(crc32(new TextEncoder().encode('123456789')), 0xcbf43926);
  assert.equal(crc32(new Uint8Array(0)), 0);
});
