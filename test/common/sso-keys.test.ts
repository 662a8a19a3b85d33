import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lookupSsoKeys, parseSsoKeysReply, ssoKeysUrl, type FetchFn } from '../../common/sso-keys.js';

const reply = (status: number, body: string): FetchFn => async () => ({ status, text: async () => body });

test('the lookup URL is BASE/api/v2/keys/EMAIL with the email escaped', () => {
  assert.equal(ssoKeysUrl('https://login.example.com/', 'a+b@x.io'), 'https://login.example.com/api/v2/keys/a%2Bb%40x.io');
});

test('a 200 reply gives the username, the keys and the openid identifier', async () => {
  const seen: string[] = [];
  const fetch: FetchFn = async (url) => {
    seen.push(url);
    return { status: 200, text: async () => '{"username":"al","ssh_keys":["ssh-ed25519 AAAA"],"openid_identifier":"xyz"}' };
  };
  const got = await lookupSsoKeys('al@x.io', { baseUrl: 'http://sso', fetch });
  assert.deepEqual(got, { username: 'al', sshKeys: ['ssh-ed25519 AAAA'], openidIdentifier: 'xyz' });
  assert.deepEqual(seen, ['http://sso/api/v2/keys/al%40x.io']);
});

test('a reply without ssh_keys means an account with no keys', () => {
  assert.deepEqual(parseSsoKeysReply('a@b.c', '{"username":"a"}'), { username: 'a', sshKeys: [], openidIdentifier: '' });
});

const failures: [string, FetchFn, string, string][] = [
  ['404', reply(404, '{}'), 'account-not-found', 'cannot find a store account with the email "a@b.c": no account with that email; check the spelling or create an account at http://sso'],
  ['500', reply(500, 'oops'), 'store-unreachable', 'cannot look up "a@b.c" in the store at http://sso: it answered with status 500; try again later'],
  ['refused', async () => { throw Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } }); }, 'store-unreachable', 'cannot reach the store at http://sso to look up "a@b.c": ECONNREFUSED; check the network and try again'],
  ['not JSON', reply(200, '<html>'), 'bad-store-reply', 'cannot use the store\'s reply for "a@b.c": it is not valid JSON; the store must answer {"username": ..., "ssh_keys": [...]}'],
  ['a list', reply(200, '[]'), 'bad-store-reply', 'cannot use the store\'s reply for "a@b.c": it is not a JSON object; the store must answer {"username": ..., "ssh_keys": [...]}'],
  ['no username', reply(200, '{"ssh_keys":[]}'), 'bad-store-reply', 'cannot use the store\'s reply for "a@b.c": "username" is missing or not a string; the store must answer {"username": ..., "ssh_keys": [...]}'],
  ['keys not strings', reply(200, '{"username":"a","ssh_keys":[1]}'), 'bad-store-reply', 'cannot use the store\'s reply for "a@b.c": "ssh_keys" is not a list of strings; the store must answer {"username": ..., "ssh_keys": [...]}'],
];

for (const [name, fetch, kind, message] of failures) {
  test(`a failed lookup (${name}) is a ${kind} error that says what to do`, async () => {
    await assert.rejects(lookupSsoKeys('a@b.c', { baseUrl: 'http://sso', fetch }), { kind, message });
  });
}
