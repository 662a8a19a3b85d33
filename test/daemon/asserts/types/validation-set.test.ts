import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StoreInfo, ValidationSetInfo } from '../../../../daemon/asserts/index.js';
import { decodeHeaders, messageOf } from '../helpers.js';

const vs = {
  'authority-id': 'brand',
  series: '16',
  'account-id': 'brand',
  name: 'my-set',
  sequence: '3',
  snaps: [
    { name: 'hello', id: 'helloidhelloidhelloidhelloid1234', presence: 'required', revision: '5' },
    { name: 'other', id: 'otheridotheridotheridotheridabcd' },
  ],
  timestamp: '2024-01-01T00:00:00Z',
};

test('a validation-set lists its snaps with presence and revision', () => {
  const info = decodeHeaders('validation-set', vs).info as ValidationSetInfo;
  assert.equal(info.sequence, 3);
  assert.deepEqual(info.snaps.map((s) => [s.name, s.presence, s.revision]), [['hello', 'required', 5], ['other', 'required', 0]]);
});

test('validation-set rule violations are rejected with snapd\'s messages', () => {
  const cases: [Record<string, unknown>, string][] = [
    [{ ...vs, 'account-id': 'other' }, 'authority-id and account-id must match, validation-set assertions are expected to be signed by the issuer account: "brand" != "other"'],
    [{ ...vs, sequence: '0' }, '"sequence" must be >=1: 0'],
    [{ ...vs, snaps: undefined }, '"snaps" header is mandatory'],
    [{ ...vs, snaps: [{ name: 'hello', id: 'helloidhelloidhelloidhelloid1234', presence: 'invalid', revision: '2' }] }, 'cannot specify revision of snap "hello" at the same time as stating its presence is invalid'],
    [{ ...vs, snaps: [{ name: 'hello', id: 'bad' }] }, '"id" of snap "hello" contains invalid characters: "bad"'],
  ];
  for (const [headers, want] of cases) assert.equal(messageOf(() => decodeHeaders('validation-set', headers)), `assertion validation-set: ${want}`);
});

test('a store assertion checks its url', () => {
  const store = { 'authority-id': 'canonical', store: 'my-store', 'operator-id': 'brand', url: 'https://store.example.com', timestamp: '2024-01-01T00:00:00Z' };
  assert.equal((decodeHeaders('store', store).info as StoreInfo).url, 'https://store.example.com');
  assert.equal(messageOf(() => decodeHeaders('store', { ...store, url: 'ftp://x' })), 'assertion store: "url" header scheme must be "https" or "http": ftp://x');
  assert.equal(messageOf(() => decodeHeaders('store', { ...store, url: 'https://x/?q=1' })), 'assertion store: "url" header must not have a query: https://x/?q=1');
});
