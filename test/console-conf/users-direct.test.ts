import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chown, lstat, mkdir, readFile, readdir, readlink, rm, stat, symlink, writeFile, cp } from 'node:fs/promises';
import { join } from 'node:path';
import { createUserDirect, resumeDirect } from '../../console-conf/users-direct.js';
import { withLocks } from '../../console-conf/fs-edge.js';
import { readMarker } from '../../console-conf/marker.js';
import { writeNetplan } from '../../console-conf/network-edge.js';
import { parseKeyLine } from '../../console-conf/ssh-key.js';
import type { Identity } from '../../console-conf/key-sources.js';
import { ETC_PASSWD, makeKey, makeRoot, startFakeStore, treeState } from './helpers.js';
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

// --- finding 11 of issue 12: nothing is written or chowned through a symlink, and an existing home must be the new user's own

const isRoot = process.getuid?.() === 0;
/** the uid createUserDirect gives "dave" in makeRoot()'s database (1000 and 1001 are taken) */
const DAVE = 1002;

/** An existing directory under the root owned by `uid`. */
async function ownedDir(path: string, uid: number): Promise<void> {
  await mkdir(path, { recursive: true });
  await chown(path, uid, uid);
}

test('a home that is a symlink to another directory inside the root (../etc) is refused: etc is neither chowned nor written to', async (t) => {
  const { root, cleanup } = await makeRoot();
  t.after(cleanup);
  await mkdir(join(root, 'home'));
  await symlink('../etc', join(root, 'home/dave'));
  const etcBefore = await stat(join(root, 'etc'));
  const before = await treeState(root);
  await assert.rejects(createUserDirect(root, identity, { now }), {
    kind: 'unsafe-path',
    message: `cannot use ${join(root, 'home/dave')} as the home of "dave": it is a symlink (to ../etc); console-conf takes over an existing home only when it is a plain directory owned by the new user, so move it away or pick another username`,
  });
  const etcAfter = await stat(join(root, 'etc'));
  assert.deepEqual([etcAfter.uid, etcAfter.gid, etcAfter.mode], [etcBefore.uid, etcBefore.gid, etcBefore.mode], 'etc keeps its owner and mode');
  assert.deepEqual(await treeState(root), before, 'no passwd entry, journal, .ssh or marker was written');
});

test('the same symlinked home, met through the identity screen, is reported there and leaves the root as it was', async (t) => {
  const store = await startFakeStore();
  const { root, cleanup } = await makeRoot();
  t.after(async () => {
    await store.close();
    await cleanup();
  });
  store.sso.set('dave@x.io', { username: 'dave', ssh_keys: [KEY] });
  await mkdir(join(root, 'home'));
  await symlink('../etc', join(root, 'home/dave'));
  const before = await treeState(root);
  const app = driveApp(root, { ssoUrl: store.url });
  t.after(() => app.stop());
  await app.submitIdentity('dave@x.io');
  await app.waitFor(`!! cannot use ${join(root, 'home/dave')} as the home of "dave": it is a symlink (to ../etc);`);
  await app.stop();
  assert.deepEqual(await readdir(join(root, 'var/lib/console-conf')), [], 'the console lock is gone, and there is no journal or marker');
  const after = await treeState(root);
  for (const k of ['var', 'var/lib', 'var/lib/console-conf']) delete after[k];
  assert.deepEqual(after, before);
});

interface Obstacle {
  name: string;
  /** needs chown (run as root) */
  root?: boolean;
  extrausers?: boolean;
  setup(root: string): Promise<void>;
  message(root: string): string;
  kind?: string;
}

const obstacles: Obstacle[] = [
  {
    name: 'a home that is a regular file',
    setup: async (r) => {
      await mkdir(join(r, 'home'));
      await writeFile(join(r, 'home/dave'), 'x');
    },
    message: (r) => `cannot use ${join(r, 'home/dave')} as the home of "dave": it is a regular file, not a directory; console-conf takes over an existing home only when it is a plain directory owned by the new user, so move it away or pick another username`,
  },
  {
    name: 'a home directory owned by root',
    root: true,
    setup: (r) => ownedDir(join(r, 'home/dave'), 0),
    message: (r) => `cannot use ${join(r, 'home/dave')} as the home of "dave": it is owned by uid 0, not by the new user (uid ${DAVE}); console-conf takes over an existing home only when it is a plain directory owned by the new user, so move it away or pick another username`,
  },
  {
    name: 'a home directory owned by another user',
    root: true,
    setup: (r) => ownedDir(join(r, 'home/dave'), 1000),
    message: (r) => `cannot use ${join(r, 'home/dave')} as the home of "dave": it is owned by uid 1000, not by the new user (uid ${DAVE}); console-conf takes over an existing home only when it is a plain directory owned by the new user, so move it away or pick another username`,
  },
  {
    name: '/home itself a symlink inside the root',
    setup: (r) => symlink('etc', join(r, 'home')),
    message: (r) => `cannot write /home under the root ${r}: ${join(r, 'home')} is a symlink (to etc), and console-conf follows no symlink where it writes; replace the symlink with a real directory`,
  },
  {
    name: 'a .ssh that is a symlink to etc',
    root: true,
    setup: async (r) => {
      await ownedDir(join(r, 'home/dave'), DAVE);
      await symlink('../../etc', join(r, 'home/dave/.ssh'));
    },
    message: (r) => `cannot use ${join(r, 'home/dave/.ssh')} as the .ssh directory of "dave": it is a symlink (to ../../etc); console-conf takes over an existing .ssh only when it is a plain directory owned by the new user, so move it away`,
  },
  {
    name: 'an authorized_keys that is a symlink to etc/shadow',
    root: true,
    setup: async (r) => {
      await ownedDir(join(r, 'home/dave/.ssh'), DAVE);
      await chown(join(r, 'home/dave'), DAVE, DAVE);
      await symlink('../../../etc/shadow', join(r, 'home/dave/.ssh/authorized_keys'));
    },
    message: (r) => `cannot write /home/dave/.ssh/authorized_keys under the root ${r}: ${join(r, 'home/dave/.ssh/authorized_keys')} is a symlink (to ../../../etc/shadow), and console-conf follows no symlink where it writes; replace the symlink with a real file`,
  },
  {
    name: 'a sudoers file that is a symlink to etc/passwd',
    setup: (r) => symlink('../passwd', join(r, 'etc/sudoers.d/create-user-dave')),
    message: (r) => `cannot write /etc/sudoers.d/create-user-dave under the root ${r}: ${join(r, 'etc/sudoers.d/create-user-dave')} is a symlink (to ../passwd), and console-conf follows no symlink where it writes; replace the symlink with a real file`,
  },
  {
    name: 'a sudoers.d that is a symlink to another directory inside the root',
    setup: async (r) => {
      await rm(join(r, 'etc/sudoers.d'), { recursive: true });
      await mkdir(join(r, 'var/tmp'), { recursive: true });
      await symlink('../var/tmp', join(r, 'etc/sudoers.d'));
    },
    message: (r) => `cannot write /etc/sudoers.d/create-user-dave under the root ${r}: ${join(r, 'etc/sudoers.d')} is a symlink (to ../var/tmp), and console-conf follows no symlink where it writes; replace the symlink with a real directory`,
  },
  {
    name: 'an extrausers passwd that is a symlink to etc/passwd',
    extrausers: true,
    setup: (r) => symlink('../../../etc/passwd', join(r, 'var/lib/extrausers/passwd')),
    message: (r) => `cannot write /var/lib/extrausers/passwd under the root ${r}: ${join(r, 'var/lib/extrausers/passwd')} is a symlink (to ../../../etc/passwd), and console-conf follows no symlink where it writes; replace the symlink with a real file`,
  },
  {
    name: 'a passwd that is a FIFO (reading it would block for ever)',
    setup: async (r) => {
      await rm(join(r, 'etc/passwd'));
      execFileSync('mkfifo', [join(r, 'etc/passwd')]);
    },
    message: (r) => `cannot read the user database ${join(r, 'etc/passwd')}: it is a FIFO, not a regular file; replace it with a regular file`,
  },
];

for (const o of obstacles) {
  test(`${o.name} is refused before anything is written or chowned`, { timeout: 10_000 }, async (t) => {
    if (o.root && !isRoot) return t.skip('needs root to chown the obstacle');
    const { root, cleanup } = await makeRoot({ extrausers: o.extrausers });
    t.after(cleanup);
    await o.setup(root);
    const before = await treeState(root);
    await assert.rejects(createUserDirect(root, identity, { now }), { kind: o.kind ?? 'unsafe-path', message: o.message(root) });
    assert.deepEqual(await treeState(root), before);
  });
}

test('an existing home and .ssh that are plain directories of the new user are taken over, their content kept', async (t) => {
  if (!isRoot) return t.skip('needs root to chown the home');
  const { root, cleanup } = await makeRoot();
  t.after(cleanup);
  await ownedDir(join(root, 'home/dave/.ssh'), DAVE);
  await chown(join(root, 'home/dave'), DAVE, DAVE);
  await writeFile(join(root, 'home/dave/notes'), 'kept');
  await createUserDirect(root, identity, { now });
  assert.equal(await readFile(join(root, 'home/dave/notes'), 'utf8'), 'kept');
  const keys = await stat(join(root, 'home/dave/.ssh/authorized_keys'));
  assert.deepEqual([keys.uid, keys.mode & 0o777], [DAVE, 0o600]);
  assert.equal(await readFile(join(root, 'home/dave/.ssh/authorized_keys'), 'utf8'), `# imported from store account d@x.io\n${KEY}\n`);
});

test('a created home, .ssh and authorized_keys are plain entries owned by the new user', async (t) => {
  const { root, cleanup } = await makeRoot();
  t.after(cleanup);
  await createUserDirect(root, identity, { now });
  for (const [p, mode] of [['home/dave', 0o755], ['home/dave/.ssh', 0o700], ['home/dave/.ssh/authorized_keys', 0o600]] as const) {
    const st = await lstat(join(root, p));
    assert.ok(!st.isSymbolicLink(), p);
    assert.equal(st.mode & 0o777, mode, p);
    if (isRoot) assert.deepEqual([st.uid, st.gid], [DAVE, DAVE], p);
  }
  const sudoers = await lstat(join(root, 'etc/sudoers.d/create-user-dave'));
  assert.deepEqual([sudoers.isFile(), sudoers.mode & 0o777], [true, 0o400]);
  assert.deepEqual((await readdir(join(root, 'etc/sudoers.d'))).sort(), ['create-user-dave'], 'no temporary file is left');
});

const JOURNAL = 'var/lib/console-conf/create-user.json';
const goodPlan = { username: 'dave', uid: DAVE, gid: DAVE, gecos: 'd@x.io', dbDir: 'etc', authorizedKeys: `# imported from x\n${KEY}\n`, origin: 'x', days: 20455 };

const journals: [string, Record<string, unknown>, string][] = [
  ['a username of ../etc', { username: '../etc' }, '"username": cannot use username "../etc": it contains "/"; use only a-z, 0-9 and - + . _'],
  ['uid 0', { uid: 0 }, '"uid" is not a whole number from 1000 to 59999'],
  ['another user database', { dbDir: '../../tmp' }, '"dbDir" is neither var/lib/extrausers nor etc'],
  ['a gecos that adds a passwd field', { gecos: 'x:0:0' }, '"gecos" holds ":" or ","'],
  ['an origin with a newline', { origin: 'x\nssh-rsa AAAA' }, '"origin" holds control characters'],
  ['101 keys', { authorizedKeys: Array.from({ length: 101 }, (_, i) => `${makeKey('ssh-ed25519', '', i)}\n`).join('') }, '"authorizedKeys": cannot use the SSH keys of x: there are 101, over the limit of 100 keys; remove the keys you do not use at the source and try again'],
];

for (const [name, change, why] of journals) {
  test(`a crafted journal with ${name} is refused at resume and nothing is written or chowned`, async (t) => {
    const { root, cleanup } = await makeRoot();
    t.after(cleanup);
    await mkdir(join(root, 'var/lib/console-conf'), { recursive: true });
    await writeFile(join(root, JOURNAL), JSON.stringify({ ...goodPlan, ...change }));
    const before = await treeState(root);
    await assert.rejects(resumeDirect(root), {
      kind: 'invalid-journal',
      message: `cannot finish the interrupted setup from /${JOURNAL}: ${why}; remove that file and run console-conf again`,
    });
    assert.deepEqual(await treeState(root), before);
  });
}

test('a journal that is a FIFO or a symlink is refused without reading it', { timeout: 10_000 }, async (t) => {
  const { root, cleanup } = await makeRoot();
  t.after(cleanup);
  await mkdir(join(root, 'var/lib/console-conf'), { recursive: true });
  execFileSync('mkfifo', [join(root, JOURNAL)]);
  await assert.rejects(resumeDirect(root), {
    kind: 'invalid-journal',
    message: `cannot finish the interrupted setup from /${JOURNAL}: it is a FIFO, not a regular file; remove that file and run console-conf again`,
  });
  await rm(join(root, JOURNAL));
  await writeFile(join(root, 'etc/plan.json'), JSON.stringify(goodPlan));
  await symlink('../../../etc/plan.json', join(root, JOURNAL));
  await assert.rejects(resumeDirect(root), {
    kind: 'invalid-journal',
    message: `cannot finish the interrupted setup from /${JOURNAL}: it is a symlink (to ../../../etc/plan.json), which console-conf does not follow here; remove that file and run console-conf again`,
  });
  assert.equal(await readlink(join(root, JOURNAL)), '../../../etc/plan.json');
  assert.equal(await readFile(join(root, 'etc/passwd'), 'utf8'), ETC_PASSWD);
});

test('a marker that is a symlink is refused before the user is created, and one that is a FIFO does not hang a console', { timeout: 10_000 }, async (t) => {
  const { root, cleanup } = await makeRoot();
  t.after(cleanup);
  await mkdir(join(root, 'var/lib/console-conf'), { recursive: true });
  execFileSync('mkfifo', [join(root, 'var/lib/console-conf/complete')]);
  assert.equal(await readMarker(root), undefined, 'a FIFO is no marker, and is not opened for a blocking read');
  await rm(join(root, 'var/lib/console-conf/complete'));
  await symlink('../../../etc/passwd', join(root, 'var/lib/console-conf/complete'));
  const before = await treeState(root);
  await assert.rejects(createUserDirect(root, identity, { now }), {
    kind: 'unsafe-path',
    message: `cannot write /var/lib/console-conf/complete under the root ${root}: ${join(root, 'var/lib/console-conf/complete')} is a symlink (to ../../../etc/passwd), and console-conf follows no symlink where it writes; replace the symlink with a real file`,
  });
  assert.deepEqual(await treeState(root), before);
});

test('the netplan file is not written through a symlinked etc/netplan', async (t) => {
  const { root, cleanup } = await makeRoot();
  t.after(cleanup);
  await symlink('sudoers.d', join(root, 'etc/netplan'));
  const before = await treeState(root);
  await assert.rejects(writeNetplan(root, 'network: {version: 2}\n'), {
    kind: 'unsafe-path',
    message: `cannot write /etc/netplan/00-console-conf.yaml under the root ${root}: ${join(root, 'etc/netplan')} is a symlink (to sudoers.d), and console-conf follows no symlink where it writes; replace the symlink with a real directory`,
  });
  assert.deepEqual(await treeState(root), before);
});
