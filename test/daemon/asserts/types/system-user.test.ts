import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SystemUserInfo } from '../../../../daemon/asserts/index.js';
import { decodeHeaders, messageOf } from '../helpers.js';

const user = {
  'authority-id': 'brand',
  'brand-id': 'brand',
  email: 'user@example.com',
  models: ['pc'],
  series: ['16'],
  name: 'User',
  username: 'user1',
  password: '$6$o5er943Y$cngsJHutSgACVbR65WAnhaUPC9.vENj8locb50hvMdMRMK8cQ3Zbu6WPh5Al2JrnHzpR63osPCwE/IFG/2s6K1',
  'ssh-keys': ['ssh-ed25519 AAAA user@host'],
  since: '2020-11-30T11:45:00+00:00',
  until: '2030-11-30T11:45:00+00:00',
};

test('a system-user gives the user to create and its validity', () => {
  const info = decodeHeaders('system-user', user).info as SystemUserInfo;
  assert.equal(info.username, 'user1');
  assert.deepEqual(info.sshKeys, ['ssh-ed25519 AAAA user@host']);
  assert.equal(info.until.toISOString(), '2030-11-30T11:45:00.000Z');
});

test('system-user rule violations are rejected with snapd\'s messages', () => {
  const cases: [Record<string, unknown>, string][] = [
    [{ ...user, username: 'Bad' }, '"username" header contains invalid characters: "Bad"; a username starts with a lowercase letter or digit, followed by lowercase letters, digits, ".", "_" or "-"'],
    [{ ...user, password: 'plain' }, '"password" header invalid: hashed password must be of the form "$integer-id$salt$hash", see crypt(3)'],
    [{ ...user, password: '$1$salt$hash' }, '"password" header only supports $id$ values of 6 (sha512crypt) or higher'],
    [{ ...user, 'force-password-change': 'true', password: undefined }, 'cannot use "force-password-change" with an empty "password"'],
    [{ ...user, until: '2019-01-01T00:00:00Z' }, `'until' time cannot be before 'since' time`],
    [{ ...user, models: undefined }, `'until' time cannot be more than 365 days in the future when no models are specified`],
    [{ ...user, format: '1', serials: ['s1'], models: ['a', 'b'] }, 'in the presence of the "serials" header "models" must specify exactly one model'],
  ];
  for (const [headers, want] of cases) assert.equal(messageOf(() => decodeHeaders('system-user', headers)), `assertion system-user: ${want}`);
});
