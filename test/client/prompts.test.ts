// Every prompt says what it unlocks, and without a terminal every command
// names its own flag and variable: the real CLI against a real coreforged
// (embedded local store), on a pty and with no terminal at all.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cliEntry, repoRoot, runCli, startDaemon, type DaemonProcess } from '../helpers/daemon.js';
import { runCliOnPty } from '../helpers/pty-cli.js';
import { makeTempDir } from '../helpers/tmp.js';

const passphrase = 'prompt test passphrase';
const password = 'prompt test password';

describe('prompts name what they unlock; without a terminal each names its own flag', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let daemon: DaemonProcess;
  let statement: string;

  /** The CLI in a session of its own (setsid): no controlling terminal to prompt on, stdin /dev/null. */
  const noTerminal = (args: string[], env: Record<string, string | undefined> = {}) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve, reject) => {
      const full: NodeJS.ProcessEnv = { ...process.env, COREFORGE_SOCKET: daemon.socketPath, ...env };
      for (const k of ['COREFORGE_PASSPHRASE', 'COREFORGE_STORE_PASSWORD']) if (!(k in env)) delete full[k];
      const proc = spawn(process.execPath, ['--import', 'tsx', cliEntry, ...args], { cwd: repoRoot, env: full, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      let stdout = '';
      let stderr = '';
      proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      proc.on('error', reject);
      proc.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    });
  const onPty = (args: string[], answers: { prompt: string; type: string }[]) =>
    runCliOnPty(args, { socketPath: daemon.socketPath, answers, env: { COREFORGE_PASSPHRASE: undefined, COREFORGE_STORE_PASSWORD: undefined } });

  before(async () => {
    ({ dir, cleanup } = await makeTempDir());
    daemon = await startDaemon({ socketPath: join(dir, 'cf.sock'), stateDir: join(dir, 'state'), extraArgs: ['--offline'] });
    await writeFile(join(dir, 'password'), `${password}\n`);
    const ok = async (args: string[], env: NodeJS.ProcessEnv = {}) => {
      const r = await runCli(args, { socketPath: daemon.socketPath, env, timeoutMs: 60_000 });
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      return r.stdout;
    };
    await ok(['store', 'account', 'add', 'maker@example.com', '--username', 'maker', '--password-file', join(dir, 'password')]);
    await ok(['create-key', 'brand'], { COREFORGE_PASSPHRASE: passphrase });
    statement = join(dir, 'model.json');
    await writeFile(statement, JSON.stringify({ type: 'model', 'authority-id': 'brand1', 'brand-id': 'brand1', series: '16', model: 'my-pi3', architecture: 'armhf', base: 'core18', gadget: 'pi=18-pi3', kernel: 'pi-kernel=18-pi3', timestamp: '2026-01-01T00:00:00+00:00' }));
  });
  after(async () => {
    await daemon?.stop();
    await cleanup?.();
  });

  it('login without a terminal names --password-file and COREFORGE_STORE_PASSWORD, and asks for the email as an argument', async () => {
    const r = await noTerminal(['login', 'maker@example.com']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'error: cannot read the password of "maker@example.com": there is no terminal to prompt on; pass --password-file FILE or set COREFORGE_STORE_PASSWORD\n');
    const noEmail = await noTerminal(['login']);
    assert.equal(noEmail.stderr, 'error: cannot ask for email address: there is no terminal to prompt on; give it as an argument: coreforge login EMAIL\n');
    const withVariable = await noTerminal(['login', 'maker@example.com'], { COREFORGE_STORE_PASSWORD: password });
    assert.equal(withVariable.code, 0, withVariable.stderr);
  });

  it('sign, register-key and delete-key without a terminal name the key, --passphrase-file and COREFORGE_PASSPHRASE', async () => {
    for (const args of [['sign', '-k', 'brand', statement], ['register-key', 'brand'], ['delete-key', 'brand'], ['export-key', 'brand', '--account', 'x1']]) {
      const r = await noTerminal(args);
      assert.equal(r.code, 1, args.join(' '));
      assert.equal(r.stderr, 'error: cannot read passphrase for key "brand": there is no terminal to prompt on; pass --passphrase-file FILE or set COREFORGE_PASSPHRASE\n', args.join(' '));
    }
  });

  it('on a terminal, login asks for the account\'s password and the key commands for the passphrase of the key by name', async () => {
    const login = await onPty(['login', 'maker@example.com'], [{ prompt: 'Password of "maker@example.com": ', type: password }]);
    assert.equal(login.code, 0, login.screen);
    assert.ok(!login.screen.includes(password), 'the password is not echoed');
    const sign = await onPty(['sign', '-k', 'brand', statement], [{ prompt: 'Passphrase for key "brand": ', type: passphrase }]);
    assert.equal(sign.code, 0, sign.screen);
    assert.match(sign.screen, /type: model/);
    const register = await onPty(['register-key', 'brand'], [{ prompt: 'Passphrase for key "brand": ', type: passphrase }]);
    assert.equal(register.code, 0, register.screen);
    const create = await onPty(['create-key', 'second'], [
      { prompt: 'Passphrase for key "second" (new key): ', type: 'two' },
      { prompt: 'Confirm passphrase for key "second": ', type: 'two' },
    ]);
    assert.equal(create.code, 0, create.screen);
    const del = await onPty(['delete-key', 'second'], [{ prompt: 'Passphrase for key "second" (to delete it): ', type: 'two' }]);
    assert.equal(del.code, 0, del.screen);
  });
});
