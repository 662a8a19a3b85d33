import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, readdir, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { parseFirstBoot } from '../../console-conf/first-boot.js';
import { readFirstBootFile } from '../../console-conf/first-boot-file.js';
import { driveApp } from './app-driver.js';
import { aliasBomb, makeRoot, treeState } from './helpers.js';

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

// --- issue 12, finding 7: the first-boot file is read and parsed within bounds

const FB = 'var/lib/console-conf/first-boot.yaml';
const ID = 'identity:\n  email: a@b.io\n';

const bounded: [string, string, string][] = [
  ['an alias bomb under network:', `${ID}network:\n${aliasBomb(9, '  ')}`, 'its aliases (*name) expand past the limit of 100 alias expansions; write the repeated values out instead of using anchors (&name) and aliases'],
  ['mappings nested 65 deep', `${ID}network: ${'{a: '.repeat(64)}1${'}'.repeat(64)}\n`, 'it nests mappings and lists deeper than 64 levels; flatten it'],
  ['text over 64 KiB', `${ID}${'#'.repeat(64 * 1024)}\n`, `it is ${ID.length + 64 * 1024 + 1} bytes, over the limit of 64 KiB; make it smaller`],
];
for (const [name, text, why] of bounded) {
  test(`a first-boot file with ${name} is refused quickly, naming the limit`, () => {
    const t0 = Date.now();
    assert.throws(() => parseFirstBoot(text, '/f.yaml'), { kind: 'invalid-first-boot', message: `cannot use first-boot file /f.yaml: ${why}` });
    assert.ok(Date.now() - t0 < 1000, 'no expansion was attempted');
  });
}

test('anchors and aliases used as netplan files use them (shared nameservers) are accepted', () => {
  const fb = parseFirstBoot(
    `${ID}network:\n  version: 2\n  ethernets:\n    eth0: {dhcp4: true, nameservers: &dns {addresses: [192.0.2.53]}}\n    eth1: {dhcp4: true, nameservers: *dns}\n    eth2: {dhcp4: true, nameservers: *dns}\n`,
    '/f.yaml',
  );
  assert.deepEqual((fb.network?.ethernets as Record<string, { nameservers: unknown }>).eth2.nameservers, { addresses: ['192.0.2.53'] });
});

async function place(root: string, make: (path: string) => Promise<void>, at = FB): Promise<void> {
  await mkdir(dirname(join(root, at)), { recursive: true });
  await make(join(root, at));
}

test('a first-boot file that is a FIFO is refused without blocking, and the console goes on interactively with nothing written', { timeout: 10_000 }, async (t) => {
  const { root, cleanup } = await makeRoot();
  t.after(cleanup);
  await place(root, async (p) => void execFileSync('mkfifo', [p]));
  await assert.rejects(readFirstBootFile(root), {
    kind: 'invalid-first-boot',
    message: `cannot use first-boot file /${FB}: it is a FIFO, not a regular file; replace it with a regular file`,
  });
  const before = await treeState(root);
  const app = driveApp(root, {});
  t.after(() => app.stop());
  await app.waitFor(`!! cannot use first-boot file /${FB}: it is a FIFO, not a regular file; replace it with a regular file. Continuing interactively.`);
  await app.waitFor('Press Enter to configure.');
  await app.stop();
  assert.deepEqual(await treeState(root), before);
});

test('a first-boot file on ubuntu-seed that is a symlink to a FIFO inside the root is refused too', { timeout: 10_000 }, async (t) => {
  const { root, cleanup } = await makeRoot();
  t.after(cleanup);
  execFileSync('mkfifo', [join(root, 'etc/pipe')]);
  const at = 'var/lib/snapd/seed/coreforge/first-boot.yaml';
  await place(root, (p) => symlink('../../../../../etc/pipe', p), at);
  await assert.rejects(readFirstBootFile(root), {
    kind: 'invalid-first-boot',
    message: `cannot use first-boot file /${at}: it is a FIFO, not a regular file; replace it with a regular file`,
  });
});

test('a first-boot file that is a character device (a /dev/zero node in the image) is refused without reading it', { timeout: 10_000 }, async (t) => {
  const { root, cleanup } = await makeRoot();
  t.after(cleanup);
  try {
    await place(root, async (p) => void execFileSync('mknod', [p, 'c', '1', '5'], { stdio: 'ignore' }));
  } catch {
    return t.skip('cannot make a device node here (needs CAP_MKNOD)');
  }
  await assert.rejects(readFirstBootFile(root), {
    kind: 'invalid-first-boot',
    message: `cannot use first-boot file /${FB}: it is a character device, not a regular file; replace it with a regular file`,
  });
});

test('a first-boot file over 64 KiB is refused from its size, before it is read', async (t) => {
  const { root, cleanup } = await makeRoot();
  t.after(cleanup);
  await place(root, (p) => writeFile(p, ID + '#'.repeat(8 * 1024 * 1024)));
  await assert.rejects(readFirstBootFile(root), {
    kind: 'invalid-first-boot',
    message: `cannot use first-boot file /${FB}: it is ${ID.length + 8 * 1024 * 1024} bytes, over the limit of 64 KiB; make it smaller`,
  });
  assert.deepEqual(await readdir(join(root, 'var/lib/console-conf')), ['first-boot.yaml']);
});
