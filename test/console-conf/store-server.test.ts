/**
 * console-conf against the project's own store server (coreforged
 * --store-listen on 127.0.0.1), not a stand-in: the account and its SSH keys
 * are created with the coreforge CLI, the way a factory would.
 */
import assert from 'node:assert/strict';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { realDaemonEntry, runCli, startDaemon, type DaemonProcess } from '../helpers/daemon.js';
import { freePort } from '../helpers/net.js';
import { makeTempDir } from '../helpers/tmp.js';
import { makeKey, makeRoot, runOnPty } from './helpers.js';

const KEY = makeKey('ssh-ed25519', 'carol@laptop', 7);

describe('console-conf with the coreforged store server as SSO', () => {
  let daemon: DaemonProcess;
  let tmp: { dir: string; cleanup(): Promise<void> };
  let ssoUrl: string;
  before(async () => {
    tmp = await makeTempDir('console-conf-store-');
    const port = await freePort();
    ssoUrl = `http://127.0.0.1:${port}`;
    daemon = await startDaemon({
      entry: realDaemonEntry,
      socketPath: join(tmp.dir, 'cf.sock'),
      stateDir: join(tmp.dir, 'state'),
      extraArgs: ['--offline', '--store-listen', `127.0.0.1:${port}`],
    });
    await writeFile(join(tmp.dir, 'carol.pub'), `${KEY}\n`);
    const r = await runCli(['store', 'account', 'add', 'carol@example.com', '--username', 'carol', '--ssh-key', join(tmp.dir, 'carol.pub')], { socketPath: daemon.socketPath });
    assert.equal(r.code, 0, r.stderr);
  });
  after(async () => {
    await daemon.stop();
    await tmp.cleanup();
  });

  const config = async (root: string) => {
    const path = `${root}.yaml`;
    await writeFile(path, `sso-url: ${ssoUrl}\nbackend: direct\nnetplan-apply: "true"\n`);
    return path;
  };

  for (const mode of [
    { name: 'rich mode on tty1', args: [] as string[], pty: { name: 'tty1', term: 'linux' } },
    { name: 'basic mode on a serial console', args: ['--serial'], pty: { name: 'ttyS0', term: 'vt100', cols: 80, rows: 24 } },
  ]) {
    it(`${mode.name}: an unknown email is refused, then the account's keys make the user`, async (t) => {
      const { root, cleanup } = await makeRoot({ extrausers: true });
      t.after(cleanup);
      const run = runOnPty([...mode.args, '--root', root, '--config', await config(root)], mode.pty);
      await run.waitFor('Press Enter to configure');
      run.write('\r');
      await run.waitFor('Choice:');
      run.write('\r');
      await run.waitFor('Email:');
      run.write('nobody@example.com\r');
      await run.waitFor('cannot find a store account with the email "nobody@example.com"');
      run.write('carol@example.com\r');
      await run.waitFor('Press Enter to continue to the login prompt');
      run.write('\r');
      assert.equal(await run.exited, 0, run.output());
      if (mode.args.includes('--serial')) assert.doesNotMatch(run.output(), /\x1b/, 'no escape sequences on a serial console');
      assert.match(await readFile(join(root, 'var/lib/extrausers/passwd'), 'utf8'), /^carol:x:1002:1002:carol@example\.com:\/home\/carol:\/bin\/bash\n$/);
      const keys = join(root, 'home/carol/.ssh/authorized_keys');
      assert.equal(await readFile(keys, 'utf8'), `# imported from store account carol@example.com\n${KEY}\n`);
      assert.equal((await stat(keys)).mode & 0o777, 0o600);
    });
  }
});
