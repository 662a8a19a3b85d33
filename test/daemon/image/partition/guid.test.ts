import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { guidFromBytes, guidToBytes, seededDiskSignature, seededGuid } from '../../../../daemon/image/partition/guid.js';

describe('GUIDs', () => {
  test('encode the ESP type GUID in GPT mixed-endian byte order', () => {
    const bytes = guidToBytes('C12A7328-F81F-11D2-BA4B-00A0C93EC93B');
    assert.equal(Buffer.from(bytes).toString('hex'), '28732ac11ff8d211ba4b00a0c93ec93b');
    assert.equal(guidFromBytes(bytes), 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B');
  });

  test('accept lower case and reject malformed GUIDs', () => {
    assert.equal(guidFromBytes(guidToBytes('0fc63daf-8483-4772-8e79-3d69d8477de4')), '0FC63DAF-8483-4772-8E79-3D69D8477DE4');
    assert.throws(() => guidToBytes('0FC63DAF-8483-4772-8E79'), {
      message: 'cannot use GUID "0FC63DAF-8483-4772-8E79": write it as 8-4-4-4-12 hex digits',
    });
  });

  test('derive the same version-4 GUID from the same seed and purpose, and different ones otherwise', () => {
    const a = seededGuid('build-1', 'disk');
    assert.equal(a, seededGuid('build-1', 'disk'));
    assert.notEqual(a, seededGuid('build-2', 'disk'));
    assert.notEqual(a, seededGuid('build-1', 'partition'));
    assert.match(a, /^[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$/);
  });

  test('derive a stable non-zero MBR disk signature from a seed', () => {
    assert.equal(seededDiskSignature('x'), seededDiskSignature('x'));
    assert.notEqual(seededDiskSignature('x'), 0);
  });
});
