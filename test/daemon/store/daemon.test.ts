// The store through the real daemon and CLI: an account in the local store,
// login, create-key, register-key, keys marked registered, a model signed by
// that key verifying through the local root; snaps added, released, resolved
// and downloaded as changes (the second time from the cache).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { lookupSsoKeys } from '../../../common/sso-keys.js';
import type { BuiltFixture } from '../../fixtures/snaps.js';
import { modelJSON } from '../../fixtures/models.js';
import * as pty from 'node-pty';
import { totp } from '../../../daemon/store/local/secrets.js';
import { cliEntry, repoRoot, runCli, startDaemon, type DaemonProcess } from '../../helpers/daemon.js';
import { makeTempDir } from '../../helpers/tmp.js';
import { storeFixtures } from './helpers.js';

const sshKey = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl alice@laptop';

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

describe('store through coreforged and the CLI', () => {
  let tmp: { dir: string; cleanup(): Promise<void> };
  let daemon: DaemonProcess;
  let fx: Record<string, BuiltFixture>;
  let storeUrl: string;
  const cli = (args: string[], env: NodeJS.ProcessEnv = {}) => runCli(args, { socketPath: daemon.socketPath, env: { COREFORGE_PASSPHRASE: 'key pass', ...env }, timeoutMs: 60_000 });
  const ok = async (args: string[], env: NodeJS.ProcessEnv = {}) => {
    const r = await cli(args, env);
    assert.equal(r.code, 0, `coreforge ${args.join(' ')}: ${r.stderr}${r.stdout}`);
    return r.stdout;
  };

  before(async () => {
    tmp = await makeTempDir('coreforge-storedaemon-');
    const port = await freePort();
    storeUrl = `http://127.0.0.1:${port}`;
    [daemon, fx] = await Promise.all([
      startDaemon({ socketPath: join(tmp.dir, 'cf.sock'), stateDir: join(tmp.dir, 'state'), extraArgs: ['--offline', '--store-listen', `127.0.0.1:${port}`] }, 60_000),
      storeFixtures(join(tmp.dir, 'snaps')),
    ]);
    await writeFile(join(tmp.dir, 'id.pub'), `${sshKey}\n`);
    await writeFile(join(tmp.dir, 'pass'), 's3cret\n');
  });
  after(async () => {
    await daemon?.stop();
    await tmp.cleanup();
  });

  it('adds an account, logs in, registers a new key, marks it registered and verifies a model it signs', async () => {
    assert.match(await ok(['store', 'account', 'add', 'alice@example.com', '--username', 'alice', '--ssh-key', join(tmp.dir, 'id.pub'), '--password-file', join(tmp.dir, 'pass')]), /^added account alice@example.com \(username alice, account-id \w{32}, 1 SSH keys\)\n$/);
    const accounts = JSON.parse(await ok(['store', 'account', 'list', '--json'])) as { email: string }[];
    assert.deepEqual(accounts.map((a) => a.email), ['alice@example.com']);

    const bad = await cli(['login', 'alice@example.com', '--password-file', join(tmp.dir, 'id.pub')]);
    assert.equal(bad.code, 1);
    assert.equal(bad.stderr, 'error: cannot log in as "alice@example.com": the email or password is not correct; check them and try again\n');

    assert.match(await ok(['login', 'alice@example.com', '--password-file', join(tmp.dir, 'pass')]), /^Login successful: alice@example.com \(username alice/);
    assert.match(await ok(['whoami']), /^email: alice@example.com\nusername: alice\n/);
    await ok(['create-key', 'default']);
    const notYet = JSON.parse(await ok(['keys', '--json'])) as { name: string; registered: boolean }[];
    assert.equal(notYet[0]?.registered, false);
    assert.match(await ok(['register-key', 'default']), /^registered key "default" \(SHA3-384 \S+\) with account \w{32}\n$/);
    const keys = JSON.parse(await ok(['keys', '--json'])) as { name: string; registered: boolean }[];
    assert.deepEqual(keys.map((k) => [k.name, k.registered]), [['default', true]]);
    assert.match(await ok(['keys']), /default\s+\S+\s+yes/);

    const again = await cli(['register-key', 'default']);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /^error: cannot register key "default": it is already registered with account "\w{32}"\n$/);
    const missing = await cli(['register-key', 'nope']);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, 'error: cannot use "nope" key: cannot find key pair in coreforge keyring; list the keys with "coreforge keys"\n');

    const account = JSON.parse(await ok(['whoami', '--json'])) as { 'account-id': string };
    await writeFile(join(tmp.dir, 'model.json'), JSON.stringify(modelJSON('coreforge-pc-20', account['account-id'], new Date())));
    const signed = await ok(['sign', '--chain', join(tmp.dir, 'model.json')]);
    await writeFile(join(tmp.dir, 'my.model'), signed);
    await ok(['verify', join(tmp.dir, 'my.model')]);

    const sso = await lookupSsoKeys('alice@example.com', { baseUrl: storeUrl });
    assert.deepEqual(sso, { username: 'alice', sshKeys: [sshKey], openidIdentifier: `${storeUrl}/+id/${account['account-id']}` });
    await assert.rejects(lookupSsoKeys('nobody@example.com', { baseUrl: storeUrl }), /no account with that email/);

    assert.equal(await ok(['logout']), 'Logged out.\n');
    assert.equal(await ok(['whoami']), 'email: -\n');
    const loggedOut = await cli(['register-key', 'default']);
    assert.equal(loggedOut.code, 1);
    assert.equal(loggedOut.stderr, 'error: cannot register key "default": not logged in to the store; run `coreforge login EMAIL` first\n');
  });

  it('logs in on a terminal: the password is not echoed, the one-time code is asked for when the store wants one', async () => {
    const secret = 'JBSWY3DPEHPK3PXP';
    await ok(['store', 'account', 'add', 'bob@example.com', '--username', 'bob', '--password-file', join(tmp.dir, 'pass'), '--otp-secret', secret]);
    const term = pty.spawn(process.execPath, ['--import', 'tsx', cliEntry, 'login'], {
      name: 'xterm',
      cols: 100,
      rows: 24,
      cwd: repoRoot,
      env: { ...process.env, COREFORGE_SOCKET: daemon.socketPath } as Record<string, string>,
    });
    let screen = '';
    const waitFor = (re: RegExp) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${re} on the terminal:\n${screen}`)), 30_000);
        const check = () => {
          if (re.test(screen)) {
            clearTimeout(timer);
            resolve();
          } else setTimeout(check, 20);
        };
        check();
      });
    term.onData((d) => (screen += d));
    const exited = new Promise<number>((resolve) => term.onExit(({ exitCode }) => resolve(exitCode)));
    await waitFor(/Email address: $/);
    term.write('bob@example.com\r');
    await waitFor(/Password of "bob@example.com": $/);
    term.write('s3cret\r');
    await waitFor(/Second-factor auth: $/);
    term.write(`${totp(secret, new Date())}\r`);
    assert.equal(await exited, 0, screen);
    assert.match(screen, /Login successful: bob@example.com \(username bob/);
    assert.ok(!screen.includes('s3cret'), 'the password is not echoed');
    assert.equal(await ok(['whoami']), `email: bob@example.com\nusername: bob\naccount-id: ${JSON.parse(await ok(['whoami', '--json']))['account-id']}\n`);
    await ok(['logout']);
  });

  it('adds and releases snaps, downloads them as changes, the second time from the cache', async () => {
    const hello = fx['hello-coreforge-amd64']!;
    assert.equal(await ok(['store', 'add', hello.path, '--channel', 'latest/edge']), 'added hello-coreforge 1.0 revision 1 released to latest/edge\n');
    assert.equal(await ok(['store', 'add', hello.path]), 'already in the store: hello-coreforge 1.0 revision 1\n');
    assert.equal(await ok(['store', 'release', 'hello-coreforge', '1', 'stable']), 'released hello-coreforge revision 1 to latest/stable\n');
    assert.match(await ok(['store', 'list']), /hello-coreforge\s+1\s+1\.0\s+amd64\s+latest\/edge \(amd64\), latest\/stable \(amd64\)/);
    const first = JSON.parse(await ok(['store', 'download', 'hello-coreforge', '--json'])) as { downloaded: number; path: string; revision: number };
    assert.equal(first.downloaded, hello.size);
    const second = JSON.parse(await ok(['store', 'download', 'hello-coreforge', '--json'])) as { downloaded: number };
    assert.equal(second.downloaded, 0);

    const cases: [string[], RegExp][] = [
      [['store', 'add', fx['bad-not-squashfs']!.path], /^error: cannot add \S+bad-not-squashfs\.snap to the store: it is not a squashfs file; give a \.snap built by snapcraft or `snap pack`\n$/],
      [['store', 'release', 'hello-coreforge', '7', 'stable'], /^error: cannot find revision 7 of snap "hello-coreforge" in the local store; see `coreforge store list`\n$/],
      [['store', 'download', 'no-such-snap'], /^error: cannot find snap "no-such-snap" in the store at http:\/\/127\.0\.0\.1:\d+; check the name\n$/],
      [['store', 'download', 'hello-coreforge', '--arch', 'armhf'], /^error: cannot find snap "hello-coreforge" for architecture armhf: it is only available for amd64\n$/],
    ];
    for (const [args, err] of cases) {
      const r = await cli(args);
      assert.equal(r.code, 1, args.join(' '));
      assert.match(r.stderr, err);
    }
  });
});
