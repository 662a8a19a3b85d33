// The guide's commands as a newcomer types them, offline: coreforged with its
// embedded local store, the Raspberry Pi 3 model of the Ubuntu Core docs, the
// CLI as a process. What goes wrong says what to do; ubuntu-image's -o works.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { BuildInfo } from '../../daemon/api/types.js';
import { FIXTURE_MODELS, modelJSON, modelTimestamp } from '../fixtures/models.js';
import { buildAllFixtures, type BuiltFixture } from '../fixtures/snaps.js';
import { runCli, startDaemon, type DaemonProcess } from '../helpers/daemon.js';
import { runCliOnPty } from '../helpers/pty-cli.js';
import { makeTempDir } from '../helpers/tmp.js';

const passphrase = 'guide passphrase';

describe('the guide\'s journey offline, as typed', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let daemon: DaemonProcess;
  let fx: Record<string, BuiltFixture>;
  let brandId = '';
  const model = () => join(dir, 'pi3.model');
  const statement = () => join(dir, 'pi3-model.json');
  const cli = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    runCli(args, { socketPath: daemon.socketPath, env: { COREFORGE_PASSPHRASE: passphrase, ...env }, timeoutMs: 180_000 });
  const ok = async (args: string[]) => {
    const r = await cli(args);
    assert.equal(r.code, 0, `coreforge ${args.join(' ')}: ${r.stderr}${r.stdout}`);
    return r.stdout;
  };
  /** The error line of a failed build ("build N failed: ..."), without its prefix. */
  const buildError = (stderr: string) => /^build \d+ failed: (.*)$/m.exec(stderr)?.[1] ?? stderr;

  before(async () => {
    ({ dir, cleanup } = await makeTempDir('coreforge-guide-'));
    [daemon, fx] = await Promise.all([
      startDaemon({ socketPath: join(dir, 'cf.sock'), stateDir: join(dir, 'state'), extraArgs: ['--offline'] }, 60_000),
      buildAllFixtures(join(dir, 'snaps'), { ids: [...FIXTURE_MODELS['my-pi3']!] }),
    ]);
    await writeFile(join(dir, 'password'), 'guide store password\n');
    await ok(['store', 'account', 'add', 'maker@example.com', '--username', 'maker', '--password-file', join(dir, 'password')]);
    await ok(['login', 'maker@example.com', '--password-file', join(dir, 'password')]);
    await ok(['create-key', 'my-key']);
    await ok(['register-key', 'my-key']);
    brandId = (JSON.parse(await ok(['whoami', '--json'])) as Record<string, string>)['account-id']!;
    await new Promise((r) => setTimeout(r, 1100)); // the model's timestamp after the key's registration
    await writeFile(statement(), JSON.stringify(modelJSON('my-pi3', brandId, modelTimestamp(new Date())), null, 2));
    await writeFile(model(), await ok(['sign', '-k', 'my-key', statement()]));
  });
  after(async () => {
    await daemon?.stop();
    await cleanup?.();
  });

  it('the first offline build says how to put snaps in the local store and where sample snaps come from', async () => {
    const r = await cli(['build', '-O', join(dir, 'first'), model()]);
    assert.equal(r.code, 1);
    assert.equal(
      buildError(r.stderr),
      'cannot find snap "snapd" (channel stable), the snapd snap model "my-pi3" needs as it has a base, in the local store nor among the local snap files; ' +
        'check the name, or add it to the local store with "sudo coreforge store add FILE.snap --channel stable" ' +
        '(a coreforge checkout makes sample snaps: "sudo bash sample-os/build" prints pc, pc-kernel, core18 and snapd for a UC18 pc model, ' +
        '"node --import tsx test/fixtures/build.ts DIR --good-only" writes small test snaps of every fixture model, the Pi 3 one included), ' +
        'or pass its .snap file with --snap PATH',
    );
    await ok(['store', 'add', fx['core18-armhf']!.path, fx['snapd-armhf']!.path, '--channel', 'stable']);
    const gadget = await cli(['build', '-O', join(dir, 'first'), model()]);
    assert.match(buildError(gadget.stderr), /^cannot find kernel "pi-kernel" \(channel 18-pi3\), the kernel of model "my-pi3", in the local store .*"sudo coreforge store add FILE\.snap --channel 18-pi3"/);
    await ok(['store', 'add', fx['pi-18']!.path, fx['pi-kernel-18']!.path, '--channel', '18-pi3/stable']);
  });

  it('an extra snap that is nowhere is called an option, not something the model requires', async () => {
    const r = await cli(['build', '--extra-snaps', 'rocketchat-server', '-o', join(dir, 'pi3-test.img'), model()]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^warning: --extra-snaps is deprecated; use --snap$/m);
    assert.match(buildError(r.stderr), /^cannot find snap "rocketchat-server" \(channel stable\), asked for with --snap \(or --extra-snaps\), in the local store nor among the local snap files; check the name, or add it to the local store/);
    assert.ok(!r.stderr.includes('required by model'), r.stderr);
  });

  it('-o names the image of a single-volume gadget, as ubuntu-image did; the summary gives its size and its data apart', async () => {
    const image = join(dir, 'out', 'pi3-test.img');
    await mkdir(join(dir, 'out'));
    const built = await cli(['build', '-c', 'stable', '-o', image, model()]);
    assert.equal(built.code, 0, built.stderr);
    for (const f of ['pi3-test.img', 'pi3-test.img.bmap', 'build.json', 'seed.manifest', 'snaps.manifest']) assert.ok(existsSync(join(dir, 'out', f)), f);
    assert.ok(!existsSync(join(dir, 'out', 'pi.img')));
    // on a terminal, the image step shows no byte rate made of the image's nominal size
    const onTty = await runCliOnPty(['build', '-c', 'stable', '-o', join(dir, 'tty', 'pi3-tty.img'), model()], { socketPath: daemon.socketPath });
    assert.equal(onTty.code, 0, onTty.screen);
    const volumeLines = onTty.screen.split(/[\r\n]/).filter((l) => l.includes('build-volumes') || l.includes('write-bmap'));
    assert.ok(volumeLines.length > 0, onTty.screen);
    for (const l of volumeLines) assert.ok(!/B\/s/.test(l), `no rate in ${JSON.stringify(l)}`);
    const id = /^build (\d+) done/m.exec(built.stdout)![1]!;
    const info = JSON.parse((await cli(['builds', id, '--json'])).stdout) as BuildInfo;
    const img = info.artifacts.find((a) => a.name === 'pi3-test.img')!;
    assert.ok(img.data! > 0 && img.data! < img.size, JSON.stringify(img));
    const mib = (n: number) => `${(n / 1048576).toFixed(1)} MiB`;
    assert.match(built.stdout, new RegExp(`^${image.replace(/[.]/g, '\\.')} +${mib(img.size)} +${mib(img.data!)} +`, 'm'));
    assert.match(built.stdout, /^Artifact +Size +Data +SHA-256$/m);
    const bmap = readFileSync(`${image}.bmap`, 'utf8');
    assert.equal(Number(/<MappedBlocksCount>\s*(\d+)/.exec(bmap)![1]) * 4096, img.data);
    const both = await cli(['build', '-o', image, '-O', dir, model()]);
    assert.equal(both.stderr, `error: cannot use -o ${image} with -O ${dir}: -o FILE names the image of a single-volume gadget and puts the other outputs beside it, -O DIR is the output directory; keep one of them\n`);
  });

  it('a model that fails its check says why and what to do, one fix per cause', async () => {
    const signed = readFileSync(model(), 'utf8');
    const tampered = join(dir, 'tampered.model');
    await writeFile(tampered, signed.replace('\nkernel: pi-kernel=18-pi3\n', '\nkernel: pi-kernel=18-pi2\n'));
    await ok(['create-key', 'unregistered']);
    const stranger = join(dir, 'stranger.model');
    await writeFile(stranger, await ok(['sign', '-k', 'unregistered', statement()]));
    const old = join(dir, 'old.json');
    await writeFile(old, JSON.stringify(modelJSON('my-pi3', brandId, '2020-01-01T00:00:00+00:00')));
    const expired = join(dir, 'expired.model');
    await writeFile(expired, await ok(['sign', '-k', 'my-key', old]));
    const errors = [];
    for (const m of [tampered, stranger, expired]) {
      const r = await cli(['build', '-O', join(dir, 'bad'), m]);
      assert.equal(r.code, 1);
      errors.push(buildError(r.stderr).replace(/^cannot verify model "my-pi3" of brand "[^"]+": /, ''));
    }
    assert.match(errors[0]!, /^failed signature verification: .*; the model was changed after it was signed: edit the JSON statement, not the signed model, and sign it again \("coreforge sign -k KEY model\.json > model\.model"\)$/);
    assert.match(errors[1]!, /^no matching public key "[^"]+" for signature by "[^"]+"; the key that signed it is unknown to coreforged: register it with the brand's store account \("coreforge login EMAIL", then "coreforge register-key KEY"\), or "coreforge ack" the brand's account-key and account assertions$/);
    assert.match(errors[2]!, /^assertion is signed with expired public key .* assertion time is 2020-01-01T00:00:00Z but key is valid from \S+; the model's timestamp is before its key became valid \(\S+\): sign it again with "coreforge sign --update-timestamp", or set "timestamp" in the JSON to a time after that$/);
    assert.equal(new Set(errors.map((e) => e.slice(e.indexOf('; ')))).size, 3);
  });

  it('errors of the model\'s statement, file and form say what is expected', async () => {
    const typo = await cli(['build', join(dir, 'pi3.modle')]);
    assert.equal(typo.stderr, `error: cannot read model ${join(dir, 'pi3.modle')}: no such file; check the path\n`);
    const unsigned = await cli(['verify', statement()]);
    assert.equal(unsigned.code, 1);
    assert.equal(unsigned.stdout, `${statement()}: INVALID: this is a JSON statement, not a signed assertion; sign it first: coreforge sign -k KEY FILE.json > FILE.assert\n`);
    const yesterday = join(dir, 'yesterday.json');
    await writeFile(yesterday, JSON.stringify({ ...modelJSON('my-pi3', brandId, 'yesterday') }));
    const date = await cli(['sign', '-k', 'my-key', yesterday]);
    assert.equal(
      date.stderr,
      'error: cannot assemble assertion model: "timestamp" header is not a RFC3339 date: "yesterday" is not a date and time of the form YYYY-MM-DDTHH:MM:SS followed by Z or an offset; write it like 2026-12-06T10:00:00+00:00, or 2026-12-06T10:00:00Z in UTC ("coreforge sign --update-timestamp" sets it to now)\n',
    );
    const named = join(dir, 'named.json');
    await writeFile(named, JSON.stringify({ ...modelJSON('my-pi3', brandId, modelTimestamp(new Date())), model: 'My_Pi3' }));
    const name = await cli(['sign', '-k', 'my-key', named]);
    assert.equal(name.stderr, 'error: cannot assemble assertion model: "model" header contains invalid characters: "My_Pi3"; a model name is lowercase letters and digits, with single hyphens between them, like "my-pi3"\n');
  });
});
