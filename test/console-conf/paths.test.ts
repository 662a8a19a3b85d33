import { test } from 'node:test';
import assert from 'node:assert/strict';
import { underRoot } from '../../console-conf/paths.js';

test('device paths are taken under the root, leading slashes or not', () => {
  assert.equal(underRoot('/r', '/etc/passwd'), '/r/etc/passwd');
  assert.equal(underRoot('/r/', 'home/a'), '/r/home/a');
  assert.equal(underRoot('/', '/etc/passwd'), '/etc/passwd');
});

test('a device path that climbs out of the root is refused', () => {
  assert.throws(() => underRoot('/r', 'home/../../etc/shadow'), {
    kind: 'path-escape',
    message: 'cannot use path "home/../../etc/shadow": it leaves the root /r; use a path inside the root',
  });
});
