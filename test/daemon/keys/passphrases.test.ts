import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassphraseVault } from '../../../daemon/keys/index.js';
import { ManualClock } from '../../helpers/clock.js';

test('a held passphrase is given out once, by its token only', () => {
  const vault = new PassphraseVault(60_000, new ManualClock());
  const token = vault.put('s3cret');
  assert.notEqual(token, 's3cret');
  assert.equal(vault.take('other'), undefined);
  assert.equal(vault.take(token), 's3cret');
  assert.equal(vault.take(token), undefined);
  assert.equal(vault.take(undefined), undefined);
});

test('a passphrase never taken is kept for its time to live and forgotten after it', () => {
  const clock = new ManualClock();
  const vault = new PassphraseVault(20_000, clock);
  const token = vault.put('s3cret');
  const short = vault.put('brief', 5_000);
  clock.advance(19_999);
  assert.equal(vault.peek(token), 's3cret', 'still held a moment before its time to live');
  assert.equal(vault.peek(short), undefined, 'a shorter time to live given to put() wins');
  clock.advance(1);
  assert.equal(vault.take(token), undefined);
});
