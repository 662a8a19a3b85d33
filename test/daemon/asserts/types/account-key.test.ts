import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import type { AccountInfo, AccountKeyInfo } from '../../../../daemon/asserts/index.js';
import { decodeHeaders, loadAssertion, messageOf } from '../helpers.js';

const devKey = loadAssertion('chains', 'snapd-testkeys/developer1.account-key');
const keyBody = Buffer.from(devKey.body).toString();
const keyId = devKey.headers['public-key-sha3-384'] as string;

const ak = {
  'authority-id': 'testrootorg',
  'public-key-sha3-384': keyId,
  'account-id': 'developer1',
  name: 'default',
  since: '2016-08-19T15:49:45+02:00',
};

test('an account-key gives its account, validity and usable public key', () => {
  const info = devKey.info as AccountKeyInfo;
  assert.equal(info.accountId, 'developer1');
  assert.equal(info.since.toISOString(), '2016-08-19T13:49:45.000Z');
  assert.equal(info.until, null);
  assert.equal(info.publicKey.id, keyId);
  const root = loadAssertion('chains', 'canonical-root/root.account-key');
  assert.equal(root.revision, 2);
  assert.equal((root.info as AccountKeyInfo).since.toISOString(), '2016-04-01T00:00:00.000Z');
});

test('an account normalizes certified to verified', () => {
  assert.equal((loadAssertion('chains', 'canonical-root/canonical.account').info as AccountInfo).validation, 'verified');
  assert.equal((loadAssertion('chains', 'snapd-testkeys/developer1.account').info as AccountInfo).validation, 'unproven');
});

test('account-key and account-key-request rule violations are rejected with snapd\'s messages', () => {
  const cases: [string, string, Record<string, unknown>, string | undefined, string][] = [
    ['key id not matching the body', 'account-key', { ...ak, 'public-key-sha3-384': 'x'.repeat(64) }, keyBody, 'assertion account-key: public key does not match provided key id'],
    ['no body', 'account-key', ak, undefined, 'assertion account-key: cannot decode public key: no data'],
    ['until before since', 'account-key', { ...ak, until: '2016-01-01T00:00:00Z' }, keyBody, `assertion account-key: 'until' time cannot be before 'since' time`],
    ['since missing', 'account-key', { ...ak, since: undefined }, keyBody, 'assertion account-key: "since" header is mandatory'],
    ['a bad key name', 'account-key', { ...ak, name: 'Bad Name' }, keyBody, 'assertion account-key: "name" header contains invalid characters: "Bad Name"; a key name is lowercase letters, digits and single hyphens, with at least one letter, like "my-model-key"'],
    ['no account-id', 'account-key', { ...ak, 'account-id': undefined }, keyBody, 'assertion account-key: "account-id" header is mandatory'],
    ['constraints that are not maps', 'account-key', { ...ak, format: '1', constraints: ['x'] }, keyBody, 'assertion account-key: assertions constraints must be a list of maps'],
    ['a request without a name', 'account-key-request', { ...ak, 'authority-id': undefined, name: undefined }, keyBody, 'assertion account-key-request: "name" header is mandatory'],
  ];
  for (const [what, type, headers, body, want] of cases) {
    assert.equal(messageOf(() => decodeHeaders(type, headers, body)), want, what);
  }
});

test('account rule violations are rejected with snapd\'s messages', () => {
  const account = { 'authority-id': 'canonical', 'account-id': 'acme', 'display-name': 'Acme', validation: 'unproven', timestamp: '2024-01-01T00:00:00Z' };
  const cases: [Record<string, unknown>, string][] = [
    [{ ...account, 'display-name': undefined }, 'assertion account: "display-name" header is mandatory'],
    [{ ...account, validation: '' }, 'assertion account: "validation" header should not be empty'],
    [{ ...account, timestamp: 'yesterday' }, 'assertion account: "timestamp" header is not a RFC3339 date: "yesterday" is not a date and time of the form YYYY-MM-DDTHH:MM:SS followed by Z or an offset; write it like 2026-12-06T10:00:00+00:00, or 2026-12-06T10:00:00Z in UTC ("coreforge sign --update-timestamp" sets it to now)'],
    [{ ...account, timestamp: '2024-13-01T00:00:00Z' }, 'assertion account: "timestamp" header is not a RFC3339 date: "2024-13-01T00:00:00Z" has its month out of range; write it like 2026-12-06T10:00:00+00:00, or 2026-12-06T10:00:00Z in UTC ("coreforge sign --update-timestamp" sets it to now)'],
    [{ ...account, username: ['a'] }, 'assertion account: "username" header must be a string'],
  ];
  for (const [headers, want] of cases) assert.equal(messageOf(() => decodeHeaders('account', headers)), want);
});
