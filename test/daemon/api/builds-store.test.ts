// Image builds from the store, through the real daemon and CLI with the
// embedded local store (--offline): the Raspberry Pi 3 model's snaps are
// resolved by name and channel (`-c beta` keeps the pinned 18-pi3 track),
// downloaded with their assertions into the cache and seeded as asserted
// snaps; a conflicting track fails with snapd's error; the same build a
// second time downloads 0 bytes.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BuildInfo, ChangeInfo } from '../../../daemon/api/types.js';
import { ubootEnvVars } from '../../../daemon/image/pipeline/bootenv.js';
import { FIXTURE_MODELS, fixtureSnapId, modelJSON, modelTimestamp } from '../../fixtures/models.js';
import { buildAllFixtures, type BuiltFixture } from '../../fixtures/snaps.js';
import { runCli, startDaemon, type DaemonProcess } from '../../helpers/daemon.js';
import { makeTempDir } from '../../helpers/tmp.js';

interface SfdiskPartition {
  start: number;
  size: number;
  name?: string;
}

const partitions = (image: string): SfdiskPartition[] => JSON.parse(execFileSync('sfdisk', ['--json', image], { encoding: 'utf8' })).partitiontable.partitions;
const debugfs = (part: string, command: string) => execFileSync('debugfs', ['-R', command, part], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });

describe('builds from the store (coreforged --offline)', () => {
  let tmp: { dir: string; cleanup(): Promise<void> };
  let daemon: DaemonProcess;
  let fx: Record<string, BuiltFixture>;
  let brandId = '';
  const model = () => join(tmp.dir, 'my-pi3.model');
  const cli = (args: string[]) => runCli(args, { socketPath: daemon.socketPath, env: { COREFORGE_PASSPHRASE: 'brand pass' }, timeoutMs: 180_000 });
  const ok = async (args: string[]) => {
    const r = await cli(args);
    assert.equal(r.code, 0, `coreforge ${args.join(' ')}: ${r.stderr}${r.stdout}`);
    return r.stdout;
  };
  const build = async (out: string) => {
    const stdout = await ok(['build', '-c', 'beta', '--snap', 'hello-coreforge=edge', '-O', out, model()]);
    const id = /build (\d+) done/.exec(stdout)?.[1];
    assert.ok(id, stdout);
    const change = (await daemon.transport.call('GET', `/v1/changes/${id}`)) as ChangeInfo;
    return { change, report: JSON.parse(readFileSync(join(out, 'build.json'), 'utf8')) as { snaps: { name: string; revision: string; channel: string; downloaded?: number; unasserted: boolean }[] } };
  };

  before(async () => {
    tmp = await makeTempDir('coreforge-builds-store-');
    [daemon, fx] = await Promise.all([
      startDaemon({ socketPath: join(tmp.dir, 'cf.sock'), stateDir: join(tmp.dir, 'state'), extraArgs: ['--offline'] }, 60_000),
      buildAllFixtures(join(tmp.dir, 'snaps'), { ids: [...FIXTURE_MODELS['my-pi3']!, 'hello-coreforge-armhf', ...FIXTURE_MODELS['coreforge-pc-20']!] }),
    ]);
    // A brand account in the local store whose registered key signs the model.
    writeFileSync(join(tmp.dir, 'pass'), 'brand store password\n');
    await ok(['store', 'account', 'add', 'brand@example.com', '--username', 'brand', '--password-file', join(tmp.dir, 'pass')]);
    await ok(['login', 'brand@example.com', '--password-file', join(tmp.dir, 'pass')]);
    await ok(['create-key', 'brand']);
    await ok(['register-key', 'brand']);
    brandId = (JSON.parse(await ok(['whoami', '--json'])) as Record<string, string>)['account-id']!;
    await new Promise((r) => setTimeout(r, 1100));
    writeFileSync(join(tmp.dir, 'my-pi3.json'), JSON.stringify(modelJSON('my-pi3', brandId, modelTimestamp(new Date()))));
    writeFileSync(model(), await ok(['sign', '-k', 'brand', join(tmp.dir, 'my-pi3.json')]));
    // The gadget and kernel only in their pinned track's beta; the base and snapd in latest/stable.
    await ok(['store', 'add', fx['pi-18']!.path, fx['pi-kernel-18']!.path, '--channel', '18-pi3/beta']);
    await ok(['store', 'add', fx['core18-armhf']!.path, fx['snapd-armhf']!.path, fx['hello-coreforge-armhf']!.path, '--channel', 'stable']);
  });
  after(async () => {
    await daemon?.stop();
    if (!process.env.KEEP_TMP) await tmp?.cleanup();
  });

  it('-c beta fetches 18-pi3/beta and seeds asserted snaps with their assertions; a second build downloads 0 bytes', { timeout: 300_000 }, async () => {
    const out = join(tmp.dir, 'image');
    const first = await build(out);
    assert.deepEqual(first.report.snaps.map((s) => [s.name, s.channel, s.revision, s.unasserted]), [
      ['snapd', 'beta', '1', false], ['pi-kernel', '18-pi3/beta', '1', false], ['core18', 'beta', '1', false], ['pi', '18-pi3/beta', '1', false], ['hello-coreforge', 'edge', '1', false],
    ]);
    for (const s of first.report.snaps) assert.equal(s.downloaded, fx[`${s.name === 'pi' ? 'pi-18' : s.name === 'pi-kernel' ? 'pi-kernel-18' : `${s.name}-armhf`}`]!.size, s.name);
    const resolve = first.change.tasks.find((t) => t.summary === 'resolve-snaps')!;
    assert.match(resolve.progress?.phase ?? '', /^fetch /);
    const log = resolve.log.map((l) => l.message).join('\n');
    assert.match(log, /fetched pi-kernel revision 1 from the local store \(channel 18-pi3\/beta\): \d+ bytes downloaded/);
    assert.match(log, /store downloads: [1-9]\d* bytes for 5 snaps/);

    const image = join(out, 'pi.img');
    const [boot, data] = partitions(image) as [SfdiskPartition, SfdiskPartition];
    const writable = join(tmp.dir, 'writable.part');
    execFileSync('dd', [`if=${image}`, `of=${writable}`, 'bs=1M', 'iflag=skip_bytes,count_bytes', `skip=${data.start * 512}`, `count=${data.size * 512}`, 'status=none']);
    const seed = '/system-data/var/lib/snapd/seed';
    assert.equal(
      debugfs(writable, `cat ${seed}/seed.yaml`),
      ['snapd', 'pi-kernel', 'core18', 'pi', 'hello-coreforge']
        .map((n) => `- name: ${n}\n  snap-id: ${fixtureSnapId(n)}\n  channel: ${first.report.snaps.find((s) => s.name === n)!.channel}\n  file: ${n}_1.snap\n`)
        .reduce((a, b) => a + b, 'snaps:\n'),
    );
    const snaps = debugfs(writable, `ls ${seed}/snaps`);
    for (const n of ['snapd', 'pi-kernel', 'core18', 'pi', 'hello-coreforge']) assert.ok(snaps.includes(`${n}_1.snap`), snaps);
    const asserts = debugfs(writable, `ls ${seed}/assertions`);
    for (const n of ['snapd', 'pi-kernel', 'core18', 'pi', 'hello-coreforge']) {
      const f = fx[n === 'pi' ? 'pi-18' : n === 'pi-kernel' ? 'pi-kernel-18' : `${n}-armhf`]!;
      assert.ok(asserts.includes(`16,${fixtureSnapId(n)}.snap-declaration`), `${n} snap-declaration in ${asserts}`);
      assert.ok(asserts.includes(`${f.sha3_384}.snap-revision`), `${n} snap-revision in ${asserts}`);
      assert.match(debugfs(writable, `cat ${seed}/assertions/${f.sha3_384}.snap-revision`), new RegExp(`^type: snap-revision\\n[^]*snap-revision: 1\\n`));
    }
    // the store's signing key, the brand's key and account; the local store's account (the publisher
    // of its snaps) and root key are trusted roots, left out as snapd leaves out Canonical's
    const decl = debugfs(writable, `cat ${seed}/assertions/16,${fixtureSnapId('pi')}.snap-declaration`);
    const publisher = /^publisher-id: (\S+)$/m.exec(decl)![1]!;
    assert.equal(publisher, /^authority-id: (\S+)$/m.exec(decl)![1]!);
    const signer = /^sign-key-sha3-384: (\S+)$/m.exec(decl)![1]!;
    assert.ok(asserts.includes(`${signer}.account-key`), `store account-key in ${asserts}`);
    assert.ok(asserts.includes(`${brandId}.account`), `brand account in ${asserts}`);
    assert.ok(asserts.includes('model'));
    assert.equal((asserts.match(/\.account-key/g) ?? []).length, 2, `brand and store account-keys, root left out: ${asserts}`);
    const uboot = execFileSync('mcopy', ['-n', '-i', `${image}@@${boot.start * 512}`, '::/uboot.env', '-']);
    const env = ubootEnvVars(uboot, 'uboot.env');
    assert.equal(env.snap_kernel, 'pi-kernel_1.snap');
    assert.equal(env.snap_core, 'core18_1.snap');

    // The same build again: everything from the cache.
    const second = await build(join(tmp.dir, 'image-again'));
    assert.deepEqual(second.report.snaps.map((s) => s.downloaded), [0, 0, 0, 0, 0]);
    const log2 = second.change.tasks.find((t) => t.summary === 'resolve-snaps')!.log.map((l) => l.message).join('\n');
    assert.match(log2, /store downloads: 0 bytes for 5 snaps/);
    assert.match(log2, /fetched pi revision 1 from the local store \(channel 18-pi3\/beta\): in the cache, 0 bytes downloaded/);
    const builds = (await daemon.transport.call('GET', '/v1/builds')) as BuildInfo[];
    assert.equal(builds.filter((b) => b.status === 'Done').length, 2);
  });

  it('fails with snapd\'s error for a track other than the pinned one, and names the channel the store lacks', async () => {
    const track = await cli(['build', '-c', '20/beta', '-O', join(tmp.dir, 'bad'), model()]);
    assert.equal(track.code, 1);
    assert.match(track.stderr, /option channel "20\/beta" for (kernel "pi-kernel"|gadget "pi") has a track incompatible with the pinned track from model assertion: 18-pi3/);
    const stable = await cli(['build', '-O', join(tmp.dir, 'bad'), model()]);
    assert.equal(stable.code, 1);
    assert.match(stable.stderr, /cannot find a revision of snap "pi-kernel" in channel "18-pi3" for armhf; it is available in 18-pi3\/beta/);
    const rev = await cli(['build', '-c', 'beta', '--revision', 'pi:7', '-O', join(tmp.dir, 'bad'), model()]);
    assert.equal(rev.code, 1);
    assert.match(rev.stderr, /cannot find revision 7 of snap "pi" for armhf in the store at http:\/\/127\.0\.0\.1:\d+; check the --revision/);
    // ubuntu-image's warning for a pinned revision, in the resolve-snaps task's log (--thru stops before
    // the finish step that records a build's warnings for the CLI)
    const pinned = /build (\d+) done/.exec(await ok(['build', '-c', 'beta', '--revision', 'pi:1', '--thru', 'resolve-snaps', '-O', join(tmp.dir, 'pinned'), model()]))?.[1];
    const pinnedChange = (await daemon.transport.call('GET', `/v1/changes/${pinned}`)) as ChangeInfo;
    const warned = pinnedChange.tasks.find((t) => t.summary === 'resolve-snaps')!.log.filter((l) => l.level === 'warn').map((l) => l.message);
    assert.deepEqual(warned, ['WARNING: revision 1 for snap pi may not be the latest available version!']);
    const notInBuild = await cli(['build', '-c', 'beta', '--revision', 'nope:1', '-O', join(tmp.dir, 'bad'), model()]);
    assert.equal(notInBuild.code, 1);
    assert.match(notInBuild.stderr, /cannot use --revision nope:1: snap "nope" is not in the model nor asked for with --snap/);
    const unknown = await cli(['build', '-c', 'beta', '--snap', 'no-such-snap', '-O', join(tmp.dir, 'bad'), model()]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /cannot find snap "no-such-snap" \(channel beta\), asked for with --snap \(or --extra-snaps\), in the local store nor among the local snap files; check the name, or add it to the local store with "sudo coreforge store add FILE\.snap --channel beta"/);
  });

  it('the UC20 signed-grade pc model builds from the store: asserted snaps in the seed\'s snaps dir, their assertions in the recovery system', { timeout: 300_000 }, async () => {
    // The model's default channels: pc and pc-kernel in 20/stable, core20 and snapd in latest/stable.
    const ids = FIXTURE_MODELS['coreforge-pc-20']!;
    const added = new Map<string, string>();
    for (const [files, channel] of [[['pc-20', 'pc-kernel-20'], '20/stable'], [['core20-amd64', 'snapd-amd64'], 'stable']] as const) {
      const r = JSON.parse(await ok(['store', 'add', ...files.map((id) => fx[id]!.path), '--channel', channel, '--json'])) as { name: string; revision: number }[];
      for (const a of r) added.set(a.name, String(a.revision));
    }
    const when = new Date();
    writeFileSync(join(tmp.dir, 'pc-20.json'), JSON.stringify(modelJSON('coreforge-pc-20', brandId, modelTimestamp(when))));
    const pcModel = join(tmp.dir, 'pc-20.model');
    writeFileSync(pcModel, await ok(['sign', '-k', 'brand', join(tmp.dir, 'pc-20.json')]));
    const out = join(tmp.dir, 'pc-20-image');
    const stdout = await ok(['build', '-O', out, pcModel]);
    assert.match(stdout, /build \d+ done: model "coreforge-pc-20"/);

    const report = JSON.parse(readFileSync(join(out, 'build.json'), 'utf8')) as { snaps: { name: string; revision: string; channel: string; unasserted: boolean }[] };
    const names = ['snapd', 'pc-kernel', 'core20', 'pc'];
    assert.deepEqual(report.snaps.map((s) => [s.name, s.channel, s.revision, s.unasserted]).sort(), names.map((n) => [n, n.startsWith('pc') ? '20/stable' : 'latest/stable', added.get(n)!, false]).sort());
    const fixtureOf = (n: string) => fx[ids.find((id) => id === n || id === `${n}-20` || id === `${n}-amd64`)!]!;

    const image = join(out, 'pc.img');
    const seed = partitions(image).find((p) => p.name === 'ubuntu-seed')!;
    assert.ok(seed, 'an ubuntu-seed partition');
    const off = seed.start * 512;
    const mtools = { encoding: 'utf8' as const, env: { ...process.env, MTOOLS_SKIP_CHECK: '1' } };
    const mdir = (path: string) => execFileSync('mdir', ['-b', '-i', `${image}@@${off}`, path], mtools).split('\n').filter((l) => l !== '').sort();
    const mcat = (path: string) => execFileSync('mcopy', ['-n', '-i', `${image}@@${off}`, `::${path}`, '-'], mtools);
    // signed grade: the model's asserted snaps go to the seed's top-level snaps dir, named by their store revision
    assert.deepEqual(mdir('::/snaps'), names.map((n) => `::/snaps/${n}_${added.get(n)}.snap`).sort());
    const label = when.toISOString().slice(0, 10).replace(/-/g, '');
    assert.deepEqual(mdir(`::/systems/${label}`), [`::/systems/${label}/assertions/`, `::/systems/${label}/model`], 'no options.yaml, no snaps/ of its own');
    assert.equal(mcat(`/systems/${label}/model`), readFileSync(pcModel, 'utf8'));
    const snapAsserts = mcat(`/systems/${label}/assertions/snaps`);
    const headers = snapAsserts.split(/\n(?=type: )/).map((a) => Object.fromEntries([...a.matchAll(/^([a-z0-9-]+): (\S+)$/gm)].map((m) => [m[1]!, m[2]!])));
    assert.deepEqual(headers.filter((h) => h.type === 'snap-declaration').map((h) => [h['snap-name'], h['snap-id']]).sort(), names.map((n) => [n, fixtureSnapId(n)]).sort());
    assert.deepEqual(
      headers.filter((h) => h.type === 'snap-revision').map((h) => [h['snap-sha3-384'], h['snap-id'], h['snap-revision']]).sort(),
      names.map((n) => [fixtureOf(n).sha3_384, fixtureSnapId(n), added.get(n)]).sort(),
    );
    const part = join(tmp.dir, 'pc-20-seed.part');
    execFileSync('dd', [`if=${image}`, `of=${part}`, 'bs=1M', 'conv=sparse', 'iflag=skip_bytes,count_bytes', `skip=${off}`, `count=${seed.size * 512}`, 'status=none']);
    execFileSync('fsck.vfat', ['-n', part], { stdio: 'pipe' });
  });

  it('--revision follows snapd\'s grade rules: pinned revisions are allowed for a signed UC20 model, a channel override is not', { timeout: 120_000 }, async () => {
    // snapd takes --revision into the seed manifest at every grade and downloads that revision without a
    // channel; only channel overrides, local and extra snaps need grade dangerous (seed20.go)
    const pcModel = join(tmp.dir, 'pc-20.model');
    const build = JSON.parse(readFileSync(join(tmp.dir, 'pc-20-image', 'build.json'), 'utf8')) as { snaps: { name: string; revision: string }[] };
    const rev = (n: string) => build.snaps.find((s) => s.name === n)!.revision;
    const stdout = await ok(['build', '--revision', `pc:${rev('pc')}`, '--revision', `pc-kernel:${rev('pc-kernel')}`, '--thru', 'resolve-snaps', '-O', join(tmp.dir, 'pc-20-pinned'), pcModel]);
    const id = /build (\d+) done/.exec(stdout)?.[1];
    assert.ok(id, stdout);
    const change = (await daemon.transport.call('GET', `/v1/changes/${id}`)) as ChangeInfo;
    const resolve = change.tasks.find((t) => t.summary === 'resolve-snaps')!;
    assert.deepEqual(resolve.log.filter((l) => l.level === 'warn').map((l) => l.message), [
      `WARNING: revision ${rev('pc')} for snap pc may not be the latest available version!`,
      `WARNING: revision ${rev('pc-kernel')} for snap pc-kernel may not be the latest available version!`,
    ]);
    const log = resolve.log.map((l) => l.message).join('\n');
    assert.match(log, new RegExp(`fetched pc revision ${rev('pc')} from the local store \\(revision ${rev('pc')}\\)`));
    assert.match(log, new RegExp(`fetched core20 revision ${rev('core20')} from the local store \\(channel latest/stable\\)`));
    const missing = await cli(['build', '--revision', 'pc:999', '-O', join(tmp.dir, 'bad-20'), pcModel]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /cannot find revision 999 of snap "pc" for amd64 in the store at http:\/\/127\.0\.0\.1:\d+; check the --revision/);
    const channel = await cli(['build', '-c', 'edge', '-O', join(tmp.dir, 'bad-20'), pcModel]);
    assert.equal(channel.code, 1);
    assert.match(channel.stderr, /cannot override channels, add devmode snaps, local snaps, or extra snaps\/components with a model of grade higher than dangerous/);
  });
});
