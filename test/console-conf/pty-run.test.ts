import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { ETC_GROUP, ETC_PASSWD, ETC_SHADOW, makeKey, makeRoot, runOnPty, startFakeStore } from './helpers.js';

const KEY1 = makeKey('ssh-ed25519', 'alice@laptop', 1);
const KEY2 = makeKey('ssh-rsa', 'alice@desktop', 2);
const hostIPv4 = Object.values(networkInterfaces())
  .flat()
  .find((a) => a && !a.internal && a.family === 'IPv4')?.address;
const days = () => [Math.floor(Date.now() / 86_400_000) - 1, Math.floor(Date.now() / 86_400_000)];
// eslint-disable-next-line no-control-regex
const COLOUR = /\x1b\[[0-9;]*m/;

async function writeConfig(root: string, url: string): Promise<string> {
  const path = join(root, '..', `${root.split('/').pop()}.yaml`);
  await writeFile(path, `sso-url: ${url}\nbackend: direct\nnetplan-apply: "true"\ngithub-url: ${url}\nlaunchpad-url: ${url}\n`);
  return path;
}

test('rich mode on tty1 creates the user in etc/ from the store account and a second run only shows the login details', async (t) => {
  const store = await startFakeStore();
  const { root, cleanup } = await makeRoot();
  t.after(async () => {
    await store.close();
    await cleanup();
  });
  store.sso.set('alice@example.com', { username: 'alice', ssh_keys: [KEY1, KEY2], openid_identifier: 'abc' });
  const config = await writeConfig(root, store.url);

  const run = runOnPty(['--root', root, '--config', config], { name: 'tty1', term: 'linux' });
  await run.waitFor('Press Enter to configure');
  run.write('\r');
  await run.waitFor('Choice:');
  run.write('\r');
  await run.waitFor('Email:');
  run.write('nobody@example.com\r');
  await run.waitFor('cannot find a store account with the email "nobody@example.com"');
  await run.waitFor('Email:');
  run.write('alice@example.com\r');
  await run.waitFor('Press Enter to continue to the login prompt');
  const screen = run.output();
  assert.match(screen, /┌/, 'rich mode draws boxes');
  assert.match(screen, COLOUR, 'rich mode uses colour');
  if (hostIPv4) assert.ok(screen.includes(`ssh alice@${hostIPv4}`), 'the ssh line names the device address');
  assert.ok(screen.includes('256 SHA256:N3hDAI/AF4tGRXaFRfQ5/iRUvfj+qSdYGe7MAgMDcdM (ED25519)'));
  run.write('\r');
  assert.equal(await run.exited, 0);

  const passwd = await readFile(join(root, 'etc/passwd'), 'utf8');
  assert.equal(passwd, ETC_PASSWD + 'alice:x:1002:1002:alice@example.com:/home/alice:/bin/bash\n');
  // uid 1001 is free but gid 1001 is lxd's: the first id free as both is 1002
  assert.equal(await readFile(join(root, 'etc/group'), 'utf8'), ETC_GROUP + 'alice:x:1002:\n');
  const shadow = await readFile(join(root, 'etc/shadow'), 'utf8');
  assert.ok(days().some((d) => shadow === ETC_SHADOW + `alice:*:${d}:0:99999:7:::\n`), shadow);
  for (const [dir, mode] of [['home/alice', 0o755], ['home/alice/.ssh', 0o700]] as const) {
    const s = await stat(join(root, dir));
    assert.ok(s.isDirectory(), dir);
    assert.equal(s.uid, 1002, dir);
    assert.equal(s.gid, 1002, dir);
    assert.equal(s.mode & 0o777, mode, dir);
  }
  const ak = join(root, 'home/alice/.ssh/authorized_keys');
  assert.equal(await readFile(ak, 'utf8'), `# imported from store account alice@example.com\n${KEY1}\n# imported from store account alice@example.com\n${KEY2}\n`);
  const st = await stat(ak);
  assert.equal(st.mode & 0o777, 0o600);
  assert.equal(st.uid, 1002);
  const sudoers = join(root, 'etc/sudoers.d/create-user-alice');
  assert.equal(await readFile(sudoers, 'utf8'), '\n# Created by snap create-user\n\n# User rules for alice\nalice ALL=(ALL) NOPASSWD:ALL\n');
  assert.equal((await stat(sudoers)).mode & 0o777, 0o400);

  const before = await snapshot(root);
  const again = runOnPty(['--root', root, '--config', config], { name: 'tty1' });
  await again.waitFor('This device is already set up');
  await again.waitFor('ssh alice@');
  assert.equal(await again.exited, 0);
  assert.deepEqual(await snapshot(root), before, 'the second run creates nothing');
});

async function snapshot(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) out.push(join(e.parentPath, e.name));
  return out.sort();
}

test('basic mode with --serial on vt100 80x24 uses plain ASCII, takes CR-only and LF-only lines, redraws on Ctrl-L and writes extrausers', async (t) => {
  const store = await startFakeStore();
  const { root, cleanup } = await makeRoot({ extrausers: true });
  t.after(async () => {
    await store.close();
    await cleanup();
  });
  store.github.set('Bob-Dev', [{ id: 1, key: KEY1 }]);
  const config = await writeConfig(root, store.url);

  const run = runOnPty(['--serial', '--root', root, '--config', config], { name: 'ttyS0', term: 'vt100', cols: 80, rows: 24 });
  await run.waitFor('Press Enter to configure');
  run.write('\r');
  await run.waitFor('Choice:');
  run.write('\x0c');
  await run.waitFor('Choice:');
  run.write('\n');
  await run.waitFor('Email:');
  run.write('gh:Bob-Dev\r\n');
  await run.waitFor('Press Enter to continue to the login prompt');
  run.write('\r');
  assert.equal(await run.exited, 0);
  const out = run.output();
  assert.doesNotMatch(out, COLOUR, 'no colour escapes on a serial console');
  assert.doesNotMatch(out, /\x1b/, 'no escape sequences at all');
  assert.doesNotMatch(out, /[^\x00-\x7f]/, 'ASCII only');
  assert.ok(out.split(/\r?\n|\r/).every((l) => l.length <= 80), 'fits 80 columns');
  assert.ok(out.includes('ssh bob-dev@'), out);

  assert.equal(await readFile(join(root, 'etc/passwd'), 'utf8'), ETC_PASSWD, 'etc/passwd is untouched on Ubuntu Core');
  assert.equal(await readFile(join(root, 'var/lib/extrausers/passwd'), 'utf8'), 'bob-dev:x:1002:1002:GitHub user Bob-Dev:/home/bob-dev:/bin/bash\n');
  assert.equal(await readFile(join(root, 'var/lib/extrausers/group'), 'utf8'), 'bob-dev:x:1002:\n');
  assert.match(await readFile(join(root, 'var/lib/extrausers/shadow'), 'utf8'), /^bob-dev:\*:\d+:0:99999:7:::\n$/);
  assert.equal(await readFile(join(root, 'home/bob-dev/.ssh/authorized_keys'), 'utf8'), `# imported from GitHub user Bob-Dev\n${KEY1}\n`);
  assert.equal((await stat(join(root, 'home/bob-dev/.ssh'))).uid, 1002);
});

test('a first-boot file creates the user with no keyboard input and prints the login details', async (t) => {
  const store = await startFakeStore();
  const { root, cleanup } = await makeRoot({ extrausers: true });
  t.after(async () => {
    await store.close();
    await cleanup();
  });
  store.launchpad.set('carol', `${KEY2}\r\n\r\n${KEY1}\n`);
  const config = await writeConfig(root, store.url);
  await mkdirp(join(root, 'var/lib/console-conf'));
  await writeFile(join(root, 'var/lib/console-conf/first-boot.yaml'), 'identity:\n  keys-from: lp:carol\n  username: carol2\nnetwork:\n  ethernets:\n    eth9:\n      dhcp4: true\n');
  const run = runOnPty(['--serial', '--root', root, '--config', config], { name: 'ttyS0', term: 'vt100' });
  await run.waitFor('ssh carol2@');
  // everything is in place before any key is pressed; Enter only hands the console to getty
  assert.equal(await readFile(join(root, 'home/carol2/.ssh/authorized_keys'), 'utf8'), `# imported from Launchpad user carol\n${KEY2}\n# imported from Launchpad user carol\n${KEY1}\n`);
  assert.match(await readFile(join(root, 'etc/netplan/00-console-conf.yaml'), 'utf8'), /network:\n {2}ethernets:\n {4}eth9:\n {6}dhcp4: true\n/);
  assert.ok(JSON.parse(await readFile(join(root, 'var/lib/console-conf/complete'), 'utf8')).username === 'carol2');
  await run.waitFor('Press Enter to continue to the login prompt');
  run.write('\r');
  assert.equal(await run.exited, 0);
});

test('a malformed first-boot file is reported on the console and the interactive screens follow', async (t) => {
  const { root, cleanup } = await makeRoot();
  t.after(cleanup);
  await mkdirp(join(root, 'var/lib/console-conf'));
  await writeFile(join(root, 'var/lib/console-conf/first-boot.yaml'), 'identity:\n  email: [1, 2\n');
  const run = runOnPty(['--serial', '--root', root], { name: 'ttyS0', term: 'vt100' });
  await run.waitFor('!! cannot use first-boot file /var/lib/console-conf/first-boot.yaml: it is not');
  await run.waitFor('Continuing');
  await run.waitFor('Press Enter to configure');
  run.pty.kill();
  await run.exited;
});

test('a --root that does not exist is refused before anything runs, naming it', async (t) => {
  const { root, cleanup } = await makeRoot();
  t.after(cleanup);
  const missing = join(root, 'no-such-root');
  const run = runOnPty(['--serial', '--root', missing], { name: 'ttyS0', term: 'vt100' });
  let ended = false;
  void run.exited.then(() => (ended = true));
  t.after(() => void (ended || run.pty.kill()));
  await run.waitFor('cannot use --root');
  assert.equal(await run.exited, 2);
  assert.equal(
    run.output().replace(/\r/g, ''),
    `console-conf: cannot use --root ${missing}: no such directory; name the directory holding the device's files (its /etc, /var, /sys), or leave --root out on the device\n`,
  );
  await writeFile(missing, 'a file');
  const file = runOnPty(['--serial', '--root', missing], { name: 'ttyS0', term: 'vt100' });
  assert.equal(await file.exited, 2);
  assert.match(file.output(), /cannot use --root .*no-such-root: it is not a directory/);
});

test('the network screen lists the interfaces under --root, never the host\'s', async (t) => {
  const { root, cleanup } = await makeRoot({ sysNet: false });
  t.after(cleanup);
  const run = runOnPty(['--serial', '--root', root], { name: 'ttyS0', term: 'vt100' });
  await run.waitFor('Press Enter to configure');
  run.write('\r');
  await run.waitFor('Choice:');
  const screen = run.output();
  assert.ok(screen.includes(`(no network interfaces found in ${join(root, 'sys/class/net')})`), screen);
  for (const name of Object.keys(networkInterfaces()).filter((n) => n !== 'lo')) assert.ok(!screen.includes(`] ${name} `), `host interface ${name} is not listed:\n${screen}`);
  if (hostIPv4) assert.ok(!screen.includes(hostIPv4), screen);
  run.pty.kill();
  await run.exited;

  // with the device's sysfs under the root: its interfaces, by name
  await mkdirp(join(root, 'sys/class/net/enx0'));
  await writeFile(join(root, 'sys/class/net/enx0/operstate'), 'down\n');
  const again = runOnPty(['--serial', '--root', root], { name: 'ttyS0', term: 'vt100' });
  await again.waitFor('Press Enter to configure');
  again.write('\r');
  await again.waitFor(/\[1\] enx0 +down +no address/);
  again.pty.kill();
  await again.exited;
});

async function mkdirp(p: string) {
  const { mkdir } = await import('node:fs/promises');
  await mkdir(p, { recursive: true });
}
