// The daemon's trust boundary, attacked as issue 12's review did: coreforged
// runs as root, and a member of the coreforge group (uid 4242, not root)
// talks to it over the socket. Each test performs the attack through the real
// path and checks it is refused with nothing read, written or changed where
// it should not be.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, symlinkSync, writeFileSync, chownSync } from 'node:fs';
import { basename, join } from 'node:path';
import { encodeAssertion } from '../../daemon/asserts/index.js';
import type { ChangeInfo } from '../../daemon/api/types.js';
import { FIXTURE_MODELS } from '../fixtures/models.js';
import type { BuiltFixture } from '../fixtures/snaps.js';
import { PI_18_GADGET_YAML } from '../fixtures/catalog/gadget-yamls.js';
import { admitMember, apiAs, member, memberDir, runAs } from '../helpers/caller.js';
import { runCli, startDaemon, waitChangeReady, type DaemonProcess } from '../helpers/daemon.js';
import { makeTempDir } from '../helpers/tmp.js';
import { freePort } from '../helpers/net.js';
import { fixtureSnaps, snapsFor, testTrust, type TestTrust } from './image/pipeline/helpers.js';

let tmp: { dir: string; cleanup(): Promise<void> };
let daemon: DaemonProcess;
let built: Record<string, BuiltFixture>;
let trust: TestTrust;
let home: string;
let secret: string;
const socketPath = () => join(tmp.dir, 'coreforge.socket');
const stateDir = () => join(tmp.dir, 'state');
const secretText = 'TOP-SECRET-ROOT-ONLY: [{';

async function start(): Promise<void> {
  daemon = await startDaemon({ socketPath: socketPath(), stateDir: stateDir() });
  await admitMember(socketPath());
}

/** The member's copies of the snaps of a fixture model (its own files, as a user has). */
function memberSnaps(name: string): string[] {
  const dir = join(home, 'snaps');
  mkdirSync(dir, { recursive: true });
  chownSync(dir, member.uid, member.gid);
  return snapsFor(built, FIXTURE_MODELS[name]!).map((p) => {
    const copy = join(dir, basename(p));
    if (!existsSync(copy)) {
      copyFileSync(p, copy);
      chownSync(copy, member.uid, member.gid);
    }
    return copy;
  });
}

function buildRequest(out: string, extra: Record<string, unknown> = {}) {
  return { model: trust.signModel('my-pi3'), 'model-source': 'my-pi3.model', snaps: memberSnaps('my-pi3'), channel: 'beta', 'output-dir': out, ...extra };
}

/** The daemon is restarted by some tests: ask the one running now. */
const waitReady = (id: string): Promise<ChangeInfo> => waitChangeReady(daemon.transport, id);

/** Every entry under `dir` with its owner and type, to show nothing changed. */
function snapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d).sort()) {
      const p = join(d, e);
      const st = lstatSync(p);
      out.push(`${p.slice(dir.length)} ${st.uid}:${st.gid} ${st.mode.toString(8)} ${st.isFile() ? readFileSync(p).length : ''}`);
      if (st.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out;
}

before(async () => {
  tmp = await makeTempDir('coreforge-trust-');
  [built, trust] = await Promise.all([fixtureSnaps(join(tmp.dir, 'snaps')), testTrust()]);
  await start();
  await daemon.transport.call('POST', '/v1/assertions', { assertions: `${encodeAssertion(trust.root)}\n${encodeAssertion(trust.rootAccount)}`, trusted: true });
  await daemon.transport.call('POST', '/v1/assertions', { assertions: `${encodeAssertion(trust.brandAccount)}\n${encodeAssertion(trust.brandKey)}` });
  home = await memberDir(join(tmp.dir, 'home'));
  secret = join(tmp.dir, 'root-secret');
  writeFileSync(secret, secretText, { mode: 0o600 });
});
after(async () => {
  await daemon.stop();
  if (!process.env.KEEP_TMP) await tmp.cleanup();
});

describe('who calls (peer credentials)', () => {
  test('the daemon knows the member by the uid the kernel gives, whatever the request says', async () => {
    const r = await apiAs(socketPath(), 'POST', '/v1/test/changes', { tasks: [{ kind: 'test-sleep', data: { ms: 10 } }], owner: { uid: 0 } });
    assert.equal(r.status, 202);
    const change = (await daemon.transport.call('GET', `/v1/changes/${r.body.change}`)) as ChangeInfo;
    assert.equal(change.owner, member.uid);
  });

  const rootOnly: [string, string, string, unknown, RegExp][] = [
    ['adding a trusted root', 'POST', '/v1/assertions', { assertions: 'x', trusted: true }, /^cannot add a trusted root assertion: only root may do this \(you are uid 4242\); trusted roots decide/],
    ['importing a key from a gnupg home', 'POST', '/v1/keys', { action: 'import', name: 'stolen', 'gnupg-home': '/root/.snap/gnupg', passphrase: 'x' }, /^cannot import key "stolen" from gnupg home \/root\/.snap\/gnupg: only root may do this/],
    ['adding a snap to the local store', 'POST', '/v1/store/snaps', { path: '/tmp/x.snap' }, /^cannot add a snap to the local store: only root may do this/],
    ['releasing a snap in the local store', 'POST', '/v1/store/snaps/pi/release', { revision: 1, channel: 'stable' }, /^cannot release a snap in the local store: only root may do this/],
    ['adding a store account', 'POST', '/v1/store/accounts', { email: 'x@example.com', username: 'x' }, /^cannot administer the local store's accounts: only root may do this/],
    ['listing store accounts', 'GET', '/v1/store/accounts', undefined, /^cannot administer the local store's accounts: only root may do this/],
  ];
  for (const [what, method, path, body, message] of rootOnly) {
    test(`${what} is root's alone`, async () => {
      const r = await apiAs(socketPath(), method, path, body);
      assert.equal(r.status, 403);
      assert.equal((r.body.result as { kind: string }).kind, 'root-required');
      assert.match((r.body.result as { message: string }).message, message);
    });
  }

  test('ack --trusted from the CLI says the same, and the trusted roots stay as they were', async () => {
    const before = (await daemon.transport.call('GET', '/v1/assertions/account-key')) as unknown[];
    const file = join(home, 'root.assert');
    writeFileSync(file, encodeAssertion(trust.brandKey));
    const res = await runCli(['ack', '--trusted', file], { socketPath: socketPath(), as: member });
    assert.equal(res.code, 1);
    assert.match(res.stderr, /only root may do this/);
    assert.deepEqual((await daemon.transport.call('GET', '/v1/assertions/account-key')) as unknown[], before);
  });

  test("another user's change is neither listed, shown nor abortable; the member's own is", async () => {
    const rootChange = (await daemon.transport.call('POST', '/v1/test/changes', { tasks: [{ kind: 'test-sleep', data: { ms: 120_000, steps: 1200 } }] })) as string;
    const listed = await apiAs(socketPath(), 'GET', '/v1/changes?select=all');
    assert.ok(!(listed.body.result as ChangeInfo[]).some((c) => c.id === rootChange));
    const shown = await apiAs(socketPath(), 'GET', `/v1/changes/${rootChange}`);
    assert.equal(shown.status, 403);
    assert.match((shown.body.result as { message: string }).message, /^cannot use change \d+: it was started by uid 0, not by you \(uid 4242\)/);
    const abort = await apiAs(socketPath(), 'POST', `/v1/changes/${rootChange}`, { action: 'abort' });
    assert.equal(abort.status, 403);
    assert.equal(((await daemon.transport.call('GET', `/v1/changes/${rootChange}`)) as ChangeInfo).ready, false, 'the change still runs');
    const watched = await runCli(['watch', rootChange], { socketPath: socketPath(), as: member });
    assert.notEqual(watched.code, 0);
    assert.match(watched.stderr, new RegExp(`cannot (use|watch) change ${rootChange}: it was started by `));
    await daemon.transport.call('POST', `/v1/changes/${rootChange}`, { action: 'abort' }); // it would run two minutes: stopped here, by its owner

    const own = await apiAs(socketPath(), 'POST', '/v1/test/changes', { tasks: [{ kind: 'test-sleep', data: { ms: 10 } }] });
    assert.equal((await apiAs(socketPath(), 'GET', `/v1/changes/${own.body.change}`)).status, 200);
    assert.ok(((await apiAs(socketPath(), 'GET', '/v1/changes?select=all')).body.result as ChangeInfo[]).some((c) => c.id === own.body.change));
  });
});

describe('paths are used with the caller\'s rights', () => {
  test('gadget validation cannot read a root-only file, directly or through a symlink in a gadget directory', async () => {
    const direct = await apiAs(socketPath(), 'POST', '/v1/gadget/validate', { path: secret });
    assert.equal(direct.status, 403);
    assert.equal((direct.body.result as { kind: string }).kind, 'permission-denied');
    assert.doesNotMatch(JSON.stringify(direct.body), /TOP-SECRET/);

    const gadget = await memberDir(join(home, 'gadget'));
    await memberDir(join(gadget, 'meta'));
    symlinkSync(secret, join(gadget, 'meta/gadget.yaml'));
    const linked = await apiAs(socketPath(), 'POST', '/v1/gadget/validate', { path: gadget });
    assert.notEqual(linked.status, 200);
    assert.match((linked.body.result as { message: string }).message, /outside the gadget snap/);
    assert.doesNotMatch(JSON.stringify(linked.body), /TOP-SECRET/);
  });

  test('a FIFO or /dev/zero named as an input is refused at once, not read', async () => {
    const fifo = join(home, 'pipe.snap');
    execFileSync('mkfifo', [fifo]);
    chownSync(fifo, member.uid, member.gid);
    const started = Date.now();
    for (const path of [fifo, '/dev/zero']) {
      const r = await apiAs(socketPath(), 'POST', '/v1/gadget/validate', { path });
      assert.equal((r.body.result as { kind: string }).kind, 'not-a-regular-file', path);
      const drives = await apiAs(socketPath(), 'GET', `/v1/drives?image=${encodeURIComponent(path)}`);
      assert.equal(drives.status, 404, path);
      assert.match((drives.body.result as { message: string }).message, /it is not a regular file/);
    }
    const build = await apiAs(socketPath(), 'POST', '/v1/builds', buildRequest(await memberDir(join(home, 'fifo-out')), { snaps: [fifo] }));
    const failed = await waitReady(build.body.change!);
    assert.equal(failed['err-kind'], 'not-a-regular-file');
    assert.match(failed.err!, /pipe\.snap: it is a FIFO; name a regular file/);
    assert.ok(Date.now() - started < 20_000);
  });

  test('a build cannot use a snap the member may not read', async () => {
    const snap = join(tmp.dir, 'root-only-pi.snap');
    copyFileSync(memberSnaps('my-pi3')[0]!, snap);
    execFileSync('chmod', ['600', snap]);
    const out = await memberDir(join(home, 'noread-out'));
    const r = await apiAs(socketPath(), 'POST', '/v1/builds', buildRequest(out, { snaps: [snap, ...memberSnaps('my-pi3').slice(1)] }));
    const failed = await waitReady(r.body.change!);
    assert.equal(failed.status, 'Error');
    assert.equal(failed['err-kind'], 'permission-denied');
    assert.match(failed.err!, /root-only-pi\.snap: uid 4242 may not read it/);
    assert.deepEqual(readdirSync(out), []);
  });

  test('outputs are the member\'s files: no symlink in the output directory is followed, nothing outside it is written', async () => {
    const out = await memberDir(join(home, 'out'));
    const victim = join(tmp.dir, 'victim');
    writeFileSync(victim, 'root file\n', { mode: 0o644 });
    // At the final names, and at the temporary names an earlier coreforged used (it wrote through them as root).
    for (const name of ['pi.img', 'pi.img.bmap', 'build.json', 'seed.manifest', '.pi.img.partial', 'pi.img.bmap.partial', 'build.json.partial']) {
      symlinkSync(victim, join(out, name));
      execFileSync('chown', ['-h', `${member.uid}:${member.gid}`, join(out, name)]);
    }
    const r = await apiAs(socketPath(), 'POST', '/v1/builds', buildRequest(out));
    const done = await waitReady(r.body.change!);
    assert.equal(done.status, 'Done', done.err);
    assert.equal(readFileSync(victim, 'utf8'), 'root file\n', 'the symlinks\' target is untouched');
    for (const name of ['pi.img', 'pi.img.bmap', 'build.json', 'seed.manifest', 'snaps.manifest']) {
      const st = lstatSync(join(out, name));
      assert.ok(st.isFile(), `${name} is a file of its own`);
      assert.equal(st.uid, member.uid, `${name} belongs to the member`);
    }
    assert.deepEqual(readdirSync(out).filter((f) => f.endsWith('.partial') && !lstatSync(join(out, f)).isSymbolicLink()), [], 'no temporary file left');
  });

  test('an output directory the member may not write to is refused before anything is made', async () => {
    const rootDir = join(tmp.dir, 'root-owned-out');
    mkdirSync(rootDir, { mode: 0o755 });
    const r = await apiAs(socketPath(), 'POST', '/v1/builds', buildRequest(join(rootDir, 'sub')));
    assert.equal(r.status, 403);
    assert.equal((r.body.result as { kind: string }).kind, 'output-not-writable');
    assert.deepEqual(readdirSync(rootDir), []);
  });

  test('a second build into the same output directory is refused while the first runs', async () => {
    const out = await memberDir(join(home, 'busy-out'));
    const first = await apiAs(socketPath(), 'POST', '/v1/builds', buildRequest(out));
    const second = await apiAs(socketPath(), 'POST', '/v1/builds', buildRequest(`${out}/.`));
    assert.equal(second.status, 409);
    assert.match((second.body.result as { message: string }).message, new RegExp(`^cannot build into .*busy-out/\\.: build ${first.body.change} is writing its images there now`));
    assert.equal((await waitReady(first.body.change!)).status, 'Done');
  });
});

describe('secrets stay in memory', () => {
  test('a first-boot file with a Wi-Fi password reaches the image, never the change data, the API or state.db', async () => {
    const password = 'wifi-Pa55-' + Date.now();
    const firstBoot = `email: dev@example.com\nnetwork:\n  version: 2\n  wifis:\n    wlan0:\n      access-points:\n        home:\n          password: ${password}\n`;
    const out = await memberDir(join(home, 'secret-out'));
    const r = await apiAs(socketPath(), 'POST', '/v1/builds', buildRequest(out, { 'first-boot': firstBoot }));
    assert.doesNotMatch(JSON.stringify(r.body), new RegExp(password), 'POST /v1/builds');
    const done = await waitReady(r.body.change!);
    assert.equal(done.status, 'Done', done.err);
    for (const path of [`/v1/changes/${r.body.change}`, `/v1/builds/${r.body.change}`, '/v1/changes?select=all']) {
      assert.doesNotMatch(JSON.stringify((await apiAs(socketPath(), 'GET', path)).body), new RegExp(password), path);
    }
    await daemon.stop();
    for (const f of readdirSync(stateDir()).filter((n) => n.startsWith('state.db'))) {
      assert.ok(!readFileSync(join(stateDir(), f)).includes(password), `${f} holds no secret`);
    }
    await start();
    // ... and the image has it: the writable defaults of the UC18 system-data partition.
    const parts = JSON.parse(execFileSync('sfdisk', ['--json', join(out, 'pi.img')], { encoding: 'utf8' })).partitiontable.partitions as { start: number; size: number }[];
    const data = parts[parts.length - 1]!;
    const text = execFileSync('debugfs', ['-R', 'cat /system-data/_writable_defaults/var/lib/console-conf/first-boot.yaml', `${join(out, 'pi.img')}?offset=${data.start * 512}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    assert.match(text, new RegExp(password));
  });
});

describe('work directories and build state', () => {
  test('-w DIR keeps what was in DIR, and the daemon works in a fresh directory it hands over when done', async () => {
    const work = await memberDir(join(home, 'work'));
    for (const sub of ['boot', 'rootfs', 'stage']) {
      await memberDir(join(work, sub));
      writeFileSync(join(work, sub, 'mine'), sub);
    }
    const before = snapshot(work);
    const r = await apiAs(socketPath(), 'POST', '/v1/builds', buildRequest(await memberDir(join(home, 'w-out')), { workdir: work }));
    assert.equal((await waitReady(r.body.change!)).status, 'Done');
    const made = `coreforge-build-${r.body.change}`;
    assert.deepEqual(snapshot(work).filter((l) => !l.startsWith(`/${made}`)), before);
    assert.equal(statSync(join(work, made)).uid, member.uid, 'handed to the member');
    assert.equal((await runAs('rm', ['-rf', join(work, made)])).code, 0, 'the member can remove it');
  });

  test('state the member can edit is never trusted: a resumed build refuses a work dir it did not make', async () => {
    const work = await memberDir(join(home, 'resume-work'));
    const out = await memberDir(join(home, 'resume-out'));
    const r = await apiAs(socketPath(), 'POST', '/v1/builds', buildRequest(out, { workdir: work, thru: 'stage-content' }));
    assert.equal((await waitReady(r.body.change!)).status, 'Done');
    const made = join(work, `coreforge-build-${r.body.change}`);
    // The daemon's work dir is root's while the build may go on: the member can neither look in nor write.
    assert.equal(statSync(made).uid, 0);
    assert.notEqual((await runAs('touch', [join(made, 'build-state.json')])).code, 0);
    // A forged state beside it is not read (the state lives in the daemon's state dir).
    writeFileSync(join(work, 'build-state.json'), JSON.stringify({ version: 2, done: ['prepare'], outputs: [{ name: '../../../etc/passwd', temp: 'x' }] }));
    // The member swaps in a directory of its own under the same name: refused.
    renameSync(made, `${made}.moved`);
    await memberDir(made);
    const resumed = await apiAs(socketPath(), 'POST', '/v1/builds', buildRequest(out, { workdir: work, resume: true }));
    const failed = await waitReady(resumed.body.change!);
    assert.equal(failed.status, 'Error');
    assert.match(failed.err!, /is not the directory coreforged made there \(it was moved, replaced or handed over\); start again without --resume/);
    assert.deepEqual(readdirSync(out), []);
  });

  test('a failed build leaves neither partial outputs nor its work dir', async () => {
    const out = await memberDir(join(home, 'fail-out'));
    const gadget = join(home, 'broken-gadget');
    const badYaml = PI_18_GADGET_YAML.replace('schema: mbr', 'schema: nope');
    assert.notEqual(badYaml, PI_18_GADGET_YAML);
    await memberDir(gadget);
    // Fails at unpack-gadget: the snaps are fine, the gadget.yaml is not (written into a copy of the gadget snap).
    const snaps = memberSnaps('my-pi3');
    const gadgetSnap = snaps.find((s) => basename(s).startsWith('pi_'))!;
    execFileSync('unsquashfs', ['-q', '-d', join(gadget, 'tree'), gadgetSnap]);
    writeFileSync(join(gadget, 'tree/meta/gadget.yaml'), badYaml);
    const broken = join(gadget, basename(gadgetSnap));
    execFileSync('mksquashfs', [join(gadget, 'tree'), broken, '-noappend', '-quiet', '-comp', 'xz', '-all-root']);
    chownSync(broken, member.uid, member.gid);
    const r = await apiAs(socketPath(), 'POST', '/v1/builds', buildRequest(out, { snaps: snaps.map((s) => (s === gadgetSnap ? broken : s)) }));
    const failed = await waitReady(r.body.change!);
    assert.equal(failed.status, 'Error');
    assert.deepEqual(readdirSync(out), []);
    await new Promise((res) => setTimeout(res, 200));
    assert.deepEqual(readdirSync(join(stateDir(), 'builds')).filter((e) => e.startsWith(String(r.body.change))), []);
  });

  test('a build killed with the daemon leaves nothing after the restart: no partial image, no work dir', async () => {
    const out = await memberDir(join(home, 'crash-out'));
    const r = await apiAs(socketPath(), 'POST', '/v1/builds', buildRequest(out));
    for (;;) {
      const c = (await daemon.transport.call('GET', `/v1/changes/${r.body.change}`)) as ChangeInfo;
      assert.equal(c.ready, false, 'the build must still run when it is killed');
      if (c.tasks.some((t) => t.status === 'Doing' && ['build-volumes', 'write-bmap'].includes(t.summary))) break;
      await new Promise((res) => setTimeout(res, 10));
    }
    await daemon.crash();
    await start();
    assert.equal(((await daemon.transport.call('GET', `/v1/changes/${r.body.change}`)) as ChangeInfo).status, 'Error');
    assert.deepEqual(readdirSync(out), [], 'no partial image, nothing that looks complete');
    assert.deepEqual(readdirSync(join(stateDir(), 'builds')).filter((e) => e.startsWith(String(r.body.change))), []);
  });
});

describe('store logins are per user', () => {
  let store: DaemonProcess;
  let dir: { dir: string; cleanup(): Promise<void> };
  before(async () => {
    dir = await makeTempDir('coreforge-trust-store-');
    const port = await freePort();
    store = await startDaemon({ socketPath: join(dir.dir, 'cf.sock'), stateDir: join(dir.dir, 'state'), extraArgs: ['--offline', '--store-listen', `127.0.0.1:${port}`] }, 60_000);
    await admitMember(join(dir.dir, 'cf.sock'));
    for (const [email, username] of [['admin@example.com', 'admin'], ['dev@example.com', 'dev']]) {
      await store.transport.call('POST', '/v1/store/accounts', { email, username, password: 'pw' });
    }
  });
  after(async () => {
    await store.stop();
    await dir.cleanup();
  });

  test("a member's login is its own: it neither sees nor uses root's, and root's is untouched by it", async () => {
    const sock = join(dir.dir, 'cf.sock');
    await store.transport.call('POST', '/v1/login', { email: 'admin@example.com', password: 'pw' });
    const before = await apiAs(sock, 'GET', '/v1/account');
    assert.equal(before.status, 401, 'root\'s login is not the member\'s');
    const register = await apiAs(sock, 'POST', '/v1/keys/default/register', { passphrase: 'x' });
    assert.notEqual(register.status, 200);
    assert.equal((await apiAs(sock, 'POST', '/v1/login', { email: 'dev@example.com', password: 'pw' })).status, 200);
    assert.equal(((await apiAs(sock, 'GET', '/v1/account')).body.result as { email: string }).email, 'dev@example.com');
    assert.equal(((await store.transport.call('GET', '/v1/account')) as { email: string }).email, 'admin@example.com');
    assert.equal((await apiAs(sock, 'POST', '/v1/logout')).status, 200);
    assert.equal(((await store.transport.call('GET', '/v1/account')) as { email: string }).email, 'admin@example.com', 'the member\'s logout is its own');
  });
});

