import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertionType, assertionTypeNames, primaryKeyOf } from '../../../daemon/asserts/index.js';
import { validateRegistry } from '../../../daemon/asserts/registry.js';
import { decodeHeaders, loadAssertion } from './helpers.js';

test('the registry is consistent: optional primary keys form a suffix with defaults', () => {
  validateRegistry();
});

test('the registry knows snapd\'s types with their primary keys and authority rules', () => {
  assert.deepEqual(assertionType('model')?.primaryKey, ['series', 'brand-id', 'model']);
  assert.deepEqual(assertionType('account-key')?.primaryKey, ['public-key-sha3-384']);
  assert.deepEqual(assertionType('snap-declaration')?.primaryKey, ['series', 'snap-id']);
  assert.deepEqual(assertionType('snap-revision')?.optionalPrimaryKeyDefaults, { provenance: 'global-upload' });
  assert.equal(assertionType('account-key-request')?.noAuthority, true);
  assert.equal(assertionType('model')?.noAuthority, false);
  assert.equal(assertionType('nope'), undefined);
  assert.ok(assertionTypeNames().length >= 26);
});

test('primary key values index an assertion, optional ones filled with their default', () => {
  assert.deepEqual(primaryKeyOf(loadAssertion('chains', 'snapd-testkeys/developer1-pc.model')), ['16', 'developer1', 'my-model']);
  const rev = decodeHeaders('snap-revision', {
    'authority-id': 'canonical',
    'snap-sha3-384': 'a'.repeat(64),
    'snap-id': 'snapidsnapidsnapidsnapidsnapid12',
    'snap-size': '1',
    'snap-revision': '1',
    'developer-id': 'dev',
    timestamp: '2024-01-01T00:00:00Z',
  });
  assert.deepEqual(primaryKeyOf(rev), ['a'.repeat(64), 'global-upload']);
});
