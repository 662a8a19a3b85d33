import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SnapDeclarationInfo, SnapRevisionInfo } from '../../../../daemon/asserts/index.js';
import { decodeHeaders, messageOf } from '../helpers.js';

const decl = {
  'authority-id': 'canonical',
  series: '16',
  'snap-id': 'snapidsnapidsnapidsnapidsnapid12',
  'publisher-id': 'dev',
  'snap-name': 'hello',
  timestamp: '2024-01-01T00:00:00Z',
};
const rev = {
  'authority-id': 'canonical',
  'snap-sha3-384': 'a'.repeat(64),
  'snap-id': 'snapidsnapidsnapidsnapidsnapid12',
  'snap-size': '4096',
  'snap-revision': '7',
  'developer-id': 'dev',
  timestamp: '2024-01-01T00:00:00Z',
};

test('a snap-declaration gives its name, publisher and aliases', () => {
  const info = decodeHeaders('snap-declaration', { ...decl, aliases: [{ name: 'hi', target: 'hello' }] }).info as SnapDeclarationInfo;
  assert.equal(info.snapName, 'hello');
  assert.deepEqual(info.aliases, { hi: 'hello' });
});

test('a snap-revision defaults its provenance to global-upload', () => {
  const a = decodeHeaders('snap-revision', rev);
  const info = a.info as SnapRevisionInfo;
  assert.equal(info.provenance, 'global-upload');
  assert.equal(a.headers.provenance, 'global-upload');
  assert.equal(info.snapRevision, 7);
  assert.equal(info.snapSize, 4096);
  assert.equal((decodeHeaders('snap-revision', { ...rev, provenance: 'delegated' }).info as SnapRevisionInfo).provenance, 'delegated');
});

test('snap assertion rule violations are rejected with snapd\'s messages', () => {
  const cases: [string, Record<string, unknown>, string][] = [
    ['snap-declaration', { ...decl, 'publisher-id': undefined }, 'assertion snap-declaration: "publisher-id" header is mandatory'],
    ['snap-declaration', { ...decl, plugs: 'x' }, 'assertion snap-declaration: "plugs" header must be a map'],
    ['snap-declaration', { ...decl, aliases: ['x'] }, 'assertion snap-declaration: "aliases" header must be a list of alias maps'],
    ['snap-declaration', { ...decl, 'auto-aliases': ['*'] }, 'assertion snap-declaration: "auto-aliases" header contains an invalid element: "*"'],
    ['snap-revision', { ...rev, 'snap-revision': '0' }, 'assertion snap-revision: "snap-revision" header must be >=1: 0'],
    ['snap-revision', { ...rev, 'snap-size': '-1' }, 'assertion snap-revision: "snap-size" header is not an unsigned integer: -1'],
    ['snap-revision', { ...rev, 'snap-sha3-384': 'abc' }, 'assertion snap-revision: "snap-sha3-384" header does not have the expected bit length: 16'],
    ['snap-revision', { ...rev, provenance: 'a b' }, 'assertion snap-revision: "provenance" header contains invalid characters: "a b"'],
  ];
  for (const [type, headers, want] of cases) assert.equal(messageOf(() => decodeHeaders(type, headers)), want);
});
