import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassphraseVault } from '../../../daemon/keys/index.js';

test('a held passphrase is given out once, by its token only', () => {
  const vault = new PassphraseVault();
  const token = vault.put('s3cret');
  assert.notEqual(token, 's3cret');
  assert.equal(vault.take('other'), undefined);
  assert.equal(vault.take(token), 's3cret');
  assert.equal(vault.take(token), undefined);
  assert.equal(vault.take(undefined), undefined);
});

test('a passphrase never taken is forgotten after its time to live', async () => {
  const vault = new PassphraseVault(20);
  const token = vault.put('s3cret');
  await new Promise((r) => setTimeout(r, 60));
  assert.equal(vault.take(token), undefined);
});
