import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFirstBoot } from '../../console-conf/first-boot.js';

test('a first-boot file with an email, a username, a netplan fragment and an SSO URL is read whole', () => {
  const fb = parseFirstBoot('identity:\n  email: a@b.io\nnetwork:\n  version: 2\n  ethernets:\n    eth0: {dhcp4: true}\nsso-url: http://127.0.0.1:5/\n', 'f');
  assert.deepEqual(fb, { identity: { source: 'store', email: 'a@b.io' }, network: { version: 2, ethernets: { eth0: { dhcp4: true } } }, ssoUrl: 'http://127.0.0.1:5' });
});

test('keys-from takes gh:USER or lp:USER and a network: wrapper is unwrapped', () => {
  const fb = parseFirstBoot('identity:\n  keys-from: gh:octo\n  username: octo\nnetwork:\n  network:\n    version: 2\n', 'f');
  assert.deepEqual(fb, { identity: { source: 'github', user: 'octo' }, username: 'octo', network: { version: 2 } });
});

const bad: [string, string][] = [
  ['identity: [\n', 'it is not valid YAML (flow sequence in block collection must be sufficiently indented and end with a ] at line 2, column 1:); fix the syntax'],
  ['just text\n', 'it is not a mapping; start it with "identity:"'],
  ['identity:\n  email: a@b.io\nuser: x\n', 'unknown key "user"; use only identity, network, sso-url'],
  ['network: {}\n', '"identity" is missing or not a mapping; write identity: {email: ...} or identity: {keys-from: gh:USER}'],
  ['identity:\n  email: a@b.io\n  keys-from: gh:x\n', '"identity" needs exactly one of "email" and "keys-from"; keep one of them'],
  ['identity:\n  mail: a@b.io\n', 'unknown key "identity.mail"; use only email, keys-from, username'],
  ['identity:\n  email: gh:x\n', '"identity.email" is not an email; fix the identity'],
  ['identity:\n  keys-from: a@b.io\n', '"identity.keys-from" must be gh:USER or lp:USER; fix the identity'],
  ['identity:\n  email: nope\n', 'identity "nope": that is not an email address; type the store account\'s email, gh:USER or lp:USER; fix the identity'],
  ['identity:\n  email: a@b.io\n  username: root\n', 'cannot use username "root": it is reserved for the system administrator; choose another username; fix "identity.username"'],
  ['identity:\n  email: a@b.io\nnetwork: [1]\n', '"network" is not a mapping; write a netplan "network:" mapping'],
  ['identity:\n  email: a@b.io\nsso-url: login\n', '"sso-url" is not an http or https URL; write e.g. sso-url: https://login.ubuntu.com'],
];
for (const [text, why] of bad) {
  test(`first-boot file ${JSON.stringify(text)} is refused naming the problem`, () => {
    assert.throws(() => parseFirstBoot(text, '/f.yaml'), { kind: 'invalid-first-boot', message: `cannot use first-boot file /f.yaml: ${why}` });
  });
}
