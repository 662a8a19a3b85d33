// `coreforge builds | head -1`: every command that prints stops quietly when
// the reader of its output has gone, instead of dying with a `write EPIPE`
// stack trace. Each printing command runs against a real coreforged with its
// standard output a pipe whose reading end is already closed.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FIXTURE_MODELS, modelJSON, modelTimestamp } from '../fixtures/models.js';
import { buildAllFixtures, type BuiltFixture } from '../fixtures/snaps.js';
import { cliEntry, repoRoot, runCli, startDaemon, type DaemonProcess } from '../helpers/daemon.js';
import { makeTempDir } from '../helpers/tmp.js';
import { chainsDir } from '../helpers/vectors.js';
import { LoopDevices, loopSkipReason } from '../daemon/flash/loop-devices.js';
import { bmapFor, MiB, typicalRanges, writeImage } from '../daemon/flash/images.js';

const passphrase = 'epipe passphrase';

describe('every printing command stops quietly on a closed pipe', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let daemon: DaemonProcess;
  let fx: Record<string, BuiltFixture>;
  let loops: LoopDevices | undefined;
  const files: Record<string, string> = {};
  const ids: Record<string, string> = {};
  const env = () => ({ COREFORGE_SOCKET: daemon.socketPath, COREFORGE_PASSPHRASE: passphrase });

  const ok = async (args: string[]) => {
    const r = await runCli(args, { socketPath: daemon.socketPath, env: env(), timeoutMs: 120_000 });
    assert.equal(r.code, 0, `coreforge ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };

  /**
   * Runs the CLI with its standard output a pipe that nobody reads any more
   * (our end is closed before the CLI writes), as `| head -1` leaves it.
   */
  const closedPipe = (args: string[]) =>
    new Promise<{ code: number | null; signal: string | null; stderr: string }>((resolve, reject) => {
      const proc = spawn(process.execPath, ['--import', 'tsx', cliEntry, ...args], { cwd: repoRoot, env: { ...process.env, ...env() }, stdio: ['ignore', 'pipe', 'pipe'] });
      proc.stdout.destroy();
      let stderr = '';
      proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const timer = setTimeout(() => proc.kill('SIGKILL'), 120_000);
      proc.on('error', reject);
      proc.on('exit', (code, signal) => {
        clearTimeout(timer);
        resolve({ code, signal, stderr });
      });
    });

  before(async () => {
    ({ dir, cleanup } = await makeTempDir());
    [daemon, fx] = await Promise.all([
      startDaemon({ socketPath: join(dir, 'cf.sock'), stateDir: join(dir, 'state'), extraArgs: ['--offline'] }),
      buildAllFixtures(join(dir, 'snaps'), { ids: [...FIXTURE_MODELS['my-pi3']!, 'hello-coreforge-armhf'] }),
    ]);
    files.password = join(dir, 'password');
    await writeFile(files.password, 'epipe store password\n');
    await ok(['store', 'account', 'add', 'maker@example.com', '--username', 'maker', '--password-file', files.password]);
    await ok(['login', 'maker@example.com', '--password-file', files.password]);
    await ok(['create-key', 'brand']);
    await ok(['create-key', 'unregistered']);
    await ok(['register-key', 'brand']);
    const brandId = (JSON.parse(await ok(['whoami', '--json'])) as Record<string, string>)['account-id']!;
    await new Promise((r) => setTimeout(r, 1100)); // the model's timestamp after the key's registration
    files.statement = join(dir, 'my-pi3.json');
    await writeFile(files.statement, JSON.stringify(modelJSON('my-pi3', brandId, modelTimestamp(new Date()))));
    files.model = join(dir, 'my-pi3.model');
    await writeFile(files.model, await ok(['sign', '-k', 'brand', files.statement]));
    await ok(['store', 'add', fx['hello-coreforge-armhf']!.path, '--channel', 'stable']);
    const snaps = FIXTURE_MODELS['my-pi3']!.flatMap((id) => ['--snap', fx[id]!.path]);
    const built = await ok(['build', '-O', join(dir, 'image'), ...snaps, files.model]);
    ids.build = /build (\d+) done/.exec(built)![1]!;
    ids.sleeping = await daemon.transport.call<string>('POST', '/v1/test/changes', { summary: 'nap', tasks: [{ kind: 'test-sleep', data: { ms: 120_000, steps: 1200 } }] });
    if (!loopSkipReason()) {
      loops = new LoopDevices(dir);
      const image = await writeImage(join(dir, 'card.img'), 16 * MiB, typicalRanges(16 * MiB));
      await writeFile(`${image.path}.bmap`, bmapFor(image));
      files.image = image.path;
      files.loop = (await loops.attach('card', 24 * MiB)).path;
    }
  });
  after(async () => {
    await daemon?.stop();
    loops?.detachAll();
    await cleanup?.();
  });

  const commands: [string, () => string[]][] = [
    ['--help', () => ['--help']],
    ['version', () => ['version']],
    ['doctor', () => ['doctor']],
    ['changes', () => ['changes']],
    ['change', () => ['change', ids.build!]],
    ['watch', () => ['watch', ids.build!]],
    ['abort', () => ['abort', ids.sleeping!]],
    ['drives', () => ['drives', '--include-loop']],
    ['keys', () => ['keys']],
    ['list-keys --json', () => ['list-keys', '--json']],
    ['create-key', () => ['create-key', 'fresh']],
    ['export-key', () => ['export-key', 'brand']],
    ['export-key --account', () => ['export-key', 'brand', '--account', 'someone']],
    ['import-key', () => ['import-key', 'imported', '--file', join(chainsDir, 'snapd-testkeys/test-root.private.asc')]],
    ['login', () => ['login', 'maker@example.com', '--password-file', files.password!]],
    ['whoami', () => ['whoami']],
    ['register-key', () => ['register-key', 'unregistered']],
    ['sign', () => ['sign', '-k', 'brand', files.statement!]],
    ['verify', () => ['verify', files.model!]],
    ['ack --json', () => ['ack', files.model!, '--json']],
    ['store add', () => ['store', 'add', fx['hello-coreforge-armhf']!.path, '--channel', 'beta']],
    ['store release', () => ['store', 'release', 'hello-coreforge', '1', 'latest/edge']],
    ['store list', () => ['store', 'list']],
    ['store download', () => ['store', 'download', 'hello-coreforge', '--arch', 'armhf']],
    ['store account add', () => ['store', 'account', 'add', 'other@example.com', '--username', 'other']],
    ['store account list', () => ['store', 'account', 'list']],
    ['build', () => ['build', '-O', join(dir, 'again'), ...FIXTURE_MODELS['my-pi3']!.flatMap((id) => ['--snap', fx[id]!.path]), files.model!]],
    ['builds', () => ['builds']],
    ['builds ID', () => ['builds', ids.build!, '--wait']],
    ['gadget validate', () => ['gadget', 'validate', fx['pi-18']!.path]],
    ['completion', () => ['completion', 'bash']],
    ['flash', () => ['flash', files.image!, files.loop!, '--include-loop', '--yes']],
  ];

  it('each command exits as it would have, with nothing on stderr but its own progress, when its output pipe is closed', { timeout: 600_000 }, async () => {
    const failures: string[] = [];
    const check = async ([name, args]: [string, () => string[]]) => {
      if (name === 'flash' && !files.loop) return;
      const r = await closedPipe(args());
      const crashed = /EPIPE|\n {4}at |Error:|error:/.test(r.stderr);
      if (r.code !== 0 || crashed) failures.push(`${name}: exit ${r.code ?? r.signal}, stderr:\n${r.stderr}`);
    };
    // a few at a time: each is a node process with tsx
    for (let i = 0; i < commands.length; i += 4) await Promise.all(commands.slice(i, i + 4).map(check));
    // logout last: the others need the login
    await check(['logout', () => ['logout']]);
    assert.deepEqual(failures, []);
  });
});
