import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, readdir, rm, stat, writeFile, cp } from 'node:fs/promises';
import { join } from 'node:path';
import { createUserDirect, resumeDirect } from '../../console-conf/users-direct.js';
import { withLocks } from '../../console-conf/fs-edge.js';
import { readMarker } from '../../console-conf/marker.js';
import { parseKeyLine } from '../../console-conf/ssh-key.js';
import type { Identity } from '../../console-conf/key-sources.js';
import { ETC_PASSWD, makeKey, makeRoot } from './helpers.js';
import { makeTempDir } from '../helpers/tmp.js';
import { driveApp } from './app-driver.js';

const KEY = makeKey('ssh-ed25519', 'k', 5);
const identity: Identity = { username: 'dave', keys: [parseKeyLine(KEY, 'x')], origin: 'store account d@x.io', email: 'd@x.io' };
const now = () => new Date('2026-01-02T03:04:05Z');

test('a crash after the user database was written is finished by the next run', async (t) => {
  const { root, cleanup } = await makeRoot({ extrausers: true });
  t.after(cleanup);
  // an obstacle where the sudoers file goes makes the run stop half way, as a crash would
  await rm(join(root, 'etc/sudoers.d'), { recursive: true });
  await writeFile(join(root, 'etc/sudoers.d'), 'not a directory');
  await assert.rejects(createUserDirect(root, identity, { now }), { kind: 'write-failed' });
  assert.match(await readFile(join(root, 'var/lib/extrausers/passwd'), 'utf8'), /^dave:x:1002:1002:/);
  assert.ok(JSON.parse(await readFile(join(root, 'var/lib/console-conf/create-user.json'), 'utf8')).username === 'dave');
  assert.equal(await readMarker(root), undefined);

  await rm(join(root, 'etc/sudoers.d'));
  const app = driveApp(root, {});
  t.after(() => app.stop());
  await app.waitFor('ssh dave@192.0.2.7');
  app.type('');
  assert.equal(await app.done, 0);
  assert.deepEqual(await readMarker(root), { username: 'dave', origin: 'store account d@x.io' });
  assert.equal(await readFile(join(root, 'var/lib/extrausers/passwd'), 'utf8'), 'dave:x:1002:1002:d@x.io:/home/dave:/bin/bash\n', 'the entry is not added twice');
  assert.equal(await readFile(join(root, 'var/lib/extrausers/shadow'), 'utf8'), 'dave:*:20455:0:99999:7:::\n');
  assert.equal((await stat(join(root, 'etc/sudoers.d/create-user-dave'))).mode & 0o777, 0o400);
  assert.deepEqual(await readdir(join(root, 'var/lib/console-conf')), ['complete'], 'the journal is gone');
  assert.equal(await resumeDirect(root), undefined);
});

test('a user name with a dot gets an escaped sudoers file name, as snapd does', async (t) => {
  const { root, cleanup } = await makeRoot();
  t.after(cleanup);
  await createUserDirect(root, { ...identity, username: 'mr.x' }, { now });
  assert.match(await readFile(join(root, 'etc/sudoers.d/create-user-mr%2Ex'), 'utf8'), /^mr\.x ALL=\(ALL\) NOPASSWD:ALL$/m);
});

test('a lock held by a live process makes the creation wait and then fail; a stale lock is taken over', async (t) => {
  const { root, cleanup } = await makeRoot();
  t.after(cleanup);
  await writeFile(join(root, 'etc/passwd.lock'), '999999\n');
  await createUserDirect(root, identity, { now });
  assert.match(await readFile(join(root, 'etc/passwd'), 'utf8'), /^dave:/m);
  await writeFile(join(root, 'etc/group.lock'), `${process.pid}\n`);
  await assert.rejects(
    withLocks([join(root, 'etc/group')], async () => {}, 50),
    { kind: 'db-locked', message: `cannot lock ${join(root, 'etc/group.lock')}: process ${process.pid} holds it; wait for it to finish and try again` },
  );
});

test('a read-only root is reported and leaves nothing behind', async (t) => {
  const { dir, cleanup } = await makeTempDir();
  const { root: src, cleanup: c2 } = await makeRoot();
  const ro = join(dir, 'ro');
  await mkdir(ro);
  let mounted = false;
  t.after(async () => {
    if (mounted) execFileSync('umount', [ro]);
    await cleanup();
    await c2();
  });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', ro], { stdio: 'ignore' });
    mounted = true;
  } catch {
    t.skip('cannot mount a tmpfs here (needs root)');
    return;
  }
  await cp(src, ro, { recursive: true });
  execFileSync('mount', ['-o', 'remount,ro', ro]);
  await assert.rejects(createUserDirect(ro, identity, { now }), {
    kind: 'write-failed',
    message: `cannot write ${join(ro, 'etc/passwd.lock')}: EROFS; the file system is read-only; boot with a writable root or remount it read-write`,
  });
  assert.equal(await readFile(join(ro, 'etc/passwd'), 'utf8'), ETC_PASSWD);
});

test('a device with a marker shows the login details and creates nothing', async (t) => {
  const { root, cleanup } = await makeRoot();
  t.after(cleanup);
  await mkdir(join(root, 'var/lib/console-conf'), { recursive: true });
  await writeFile(join(root, 'var/lib/console-conf/complete'), '{"username":"eve","origin":"store account e@x.io"}\n');
  const app = driveApp(root, {});
  t.after(() => app.stop());
  await app.waitFor('This device is already set up');
  await app.waitFor('This device belongs to store account e@x.io, user "eve".');
  await app.waitFor('ssh eve@192.0.2.7');
  assert.equal(await app.done, 0);
  assert.equal(await readFile(join(root, 'etc/passwd'), 'utf8'), ETC_PASSWD);
  assert.deepEqual(await readdir(join(root, 'var/lib/console-conf')), ['complete']);
});

test('when another console finishes first, a waiting console switches to the login details', async (t) => {
  const { root, cleanup } = await makeRoot();
  t.after(cleanup);
  const waiting = driveApp(root, {});
  t.after(() => waiting.stop());
  await waiting.waitFor('Press Enter to configure.');
  await createUserDirect(root, identity, { now });
  await waiting.waitFor('Another console finished the setup');
  await waiting.waitFor('ssh dave@192.0.2.7');
  waiting.type('');
  assert.equal(await waiting.done, 0);
});

test('a symlink that leads out of the root is refused before anything is written through it', async (t) => {
  const { root, cleanup } = await makeRoot();
  const { dir: outside, cleanup: c2 } = await makeTempDir();
  t.after(async () => {
    await cleanup();
    await c2();
  });
  const { symlink } = await import('node:fs/promises');
  await rm(join(root, 'etc/sudoers.d'), { recursive: true });
  await symlink(outside, join(root, 'etc/sudoers.d'));
  await assert.rejects(createUserDirect(root, identity, { now }), {
    kind: 'path-escape',
    message: `cannot use path "etc/sudoers.d/create-user-dave": ${join(root, 'etc/sudoers.d')} leads to ${outside}, outside the root ${root}; replace the symlink with a directory`,
  });
  assert.deepEqual(await readdir(outside), []);
});
