import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkUsername } from '../../console-conf/username.js';
import { parseKeyLine, formatKey } from '../../console-conf/ssh-key.js';
import { parseIdentity } from '../../console-conf/identity-spec.js';
import { makeKey } from './helpers.js';

test('usernames snapd accepts are accepted', () => {
  for (const n of ['alice', 'a', '0day', 'mr.smith', 'a-b_c+d', 'x'.repeat(32)]) assert.equal(checkUsername(n), n);
});

const badNames: [string, string][] = [
  ['', 'cannot use username "": it is empty; the account needs a username'],
  ['root', 'cannot use username "root": it is reserved for the system administrator; choose another username'],
  ['a/b', 'cannot use username "a/b": it contains "/"; use only a-z, 0-9 and - + . _'],
  ['../etc', 'cannot use username "../etc": it contains "/"; use only a-z, 0-9 and - + . _'],
  ['a..b', 'cannot use username "a..b": it contains ".."; use only a-z, 0-9 and - + . _ without ".."'],
  ['Alice', 'cannot use username "Alice": it must start with a-z or 0-9 and contain only a-z, 0-9 and - + . _; choose a username that follows this rule'],
  ['al@ce', 'cannot use username "al@ce": it must start with a-z or 0-9 and contain only a-z, 0-9 and - + . _; choose a username that follows this rule'],
  ['-x', 'cannot use username "-x": it must start with a-z or 0-9 and contain only a-z, 0-9 and - + . _; choose a username that follows this rule'],
  ['a b', 'cannot use username "a b": it must start with a-z or 0-9 and contain only a-z, 0-9 and - + . _; choose a username that follows this rule'],
  ['x'.repeat(33), `cannot use username "${'x'.repeat(33)}": it is longer than 32 characters; choose a shorter username`],
];
for (const [name, message] of badNames) {
  test(`username ${JSON.stringify(name)} is refused`, () => {
    assert.throws(() => checkUsername(name), { kind: 'invalid-username', message });
  });
}

test('every known key type is accepted and normalised to "type data comment"', () => {
  for (const type of ['ssh-ed25519', 'ssh-rsa', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'sk-ssh-ed25519@openssh.com', 'sk-ecdsa-sha2-nistp256@openssh.com']) {
    const line = makeKey(type, 'me@host');
    assert.equal(formatKey(parseKeyLine(`  ${line}  `, 'x')), line);
  }
});

const ed = makeKey('ssh-ed25519', '');
const badKeys: [string, string, string][] = [
  ['an embedded newline', `${ed} a\nssh-rsa AAAA`, 'it spans more than one line'],
  ['an embedded CR', `${ed}\rx`, 'it spans more than one line'],
  ['a command= option', `command="/bin/sh" ${ed}`, 'it starts with authorized_keys options, which are not allowed'],
  ['a no-pty option', `no-pty ${ed}`, 'it starts with authorized_keys options, which are not allowed'],
  ['an unknown type', 'ssh-dss AAAAB3NzaC1kc3M=', 'its type "ssh-dss" is not one of ssh-ed25519, ssh-rsa, ecdsa-sha2-nistp256, ecdsa-sha2-nistp384, ecdsa-sha2-nistp521, sk-ssh-ed25519@openssh.com, sk-ecdsa-sha2-nistp256@openssh.com'],
  ['data that is not base64', 'ssh-ed25519 not*base64', 'its key data is not base64'],
  ['data of another type', `ssh-rsa ${ed.split(' ')[1]}`, 'its key data does not hold a ssh-rsa key'],
  ['an empty line', '   ', 'it is empty'],
  ['a control character', `${ed} a\x07b`, 'it contains control characters'],
];
for (const [what, line, why] of badKeys) {
  test(`a key line with ${what} is refused`, () => {
    const shown = JSON.stringify(line.length > 60 ? line.slice(0, 57) + '...' : line);
    assert.throws(() => parseKeyLine(line, 'store account a@b.c'), {
      kind: 'invalid-ssh-key',
      message: `cannot use the SSH key ${shown} from store account a@b.c: ${why}; remove or fix that key at its source`,
    });
  });
}

test('the identity prompt takes an email, gh:USER or lp:USER', () => {
  assert.deepEqual(parseIdentity(' a@b.io '), { source: 'store', email: 'a@b.io' });
  assert.deepEqual(parseIdentity('gh:Some-One'), { source: 'github', user: 'Some-One' });
  assert.deepEqual(parseIdentity('lp:some.one'), { source: 'launchpad', user: 'some.one' });
});

const badIds: [string, string][] = [
  ['', 'nothing was entered'],
  ['alice', 'that is not an email address'],
  ['gh:', 'that is not a valid GitHub username'],
  ['gh:a/b', 'that is not a valid GitHub username'],
  ['lp:A', 'that is not a valid Launchpad username'],
];
for (const [text, why] of badIds) {
  test(`identity ${JSON.stringify(text)} is refused`, () => {
    assert.throws(() => parseIdentity(text), { kind: 'invalid-identity', message: `cannot use "${text}": ${why}; type the store account's email, gh:USER or lp:USER` });
  });
}
