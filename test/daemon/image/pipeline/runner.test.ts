import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeAssertion, signAssertion, signerFromKeyObject } from '../../../../daemon/asserts/index.js';
import { generateKeyPairSync } from 'node:crypto';
import { runTool } from '../../../../daemon/image/pipeline/exec.js';
import type { BuildParams } from '../../../../daemon/image/pipeline/params.js';
import { imageSha256 } from '../../../../daemon/image/pipeline/image-digests.js';
import { runBuild, type BuildEnv } from '../../../../daemon/image/pipeline/runner.js';
import { notAllowedExceptForDangerous } from '../../../../daemon/image/pipeline/resolve.js';
import { isCoreforgeError } from '../../../../daemon/errors.js';
import { FIXTURE_MODELS, fixtureSnapId, modelJSON } from '../../../fixtures/models.js';
import { chainsDir, signerFromArmored } from '../../asserts/helpers.js';
import { buildFixtureSnap, fixtureSpec, type BuiltFixture, type FixtureSpec } from '../../../fixtures/snaps.js';
import { PI_18_GADGET_YAML } from '../../../fixtures/catalog/gadget-yamls.js';
import { makeTempDir } from '../../../helpers/tmp.js';
import { assertedSnaps, fixtureSnaps, modelTime, snapsFor, testTrust, type TestTrust } from './helpers.js';

let tmp: { dir: string; cleanup(): Promise<void> };
let built: Record<string, BuiltFixture>;
let trust: TestTrust;
let n = 0;

before(async () => {
  tmp = await makeTempDir('coreforge-build-');
  built = await fixtureSnaps(join(tmp.dir, 'snaps'));
  trust = await testTrust();
});
after(() => tmp.cleanup());

function env(logs: string[] = []): BuildEnv {
  return { exec: runTool, lookups: trust.lookups, progress: () => {}, log: (_l, m) => logs.push(m) };
}

function params(name: string, snaps: string[], extra: Partial<BuildParams> = {}): BuildParams {
  n++;
  return {
    model: trust.signModel(name),
    modelSource: `${name}.model`,
    snaps,
    channel: '',
    outputDir: join(tmp.dir, `out-${n}`),
    workDir: join(tmp.dir, `work-${n}`),
    sectorSize: 512,
    validation: 'ignore',
    disableConsoleConf: false,
    ...extra,
  };
}

/** The snaps of a fixture model with some replaced (by id) or removed (undefined). */
function snapsWith(name: string, replace: Record<string, string | undefined>): string[] {
  return FIXTURE_MODELS[name]!.flatMap((id) => (id in replace ? (replace[id] === undefined ? [] : [replace[id]!]) : [built[id]!.path]));
}

async function custom(spec: FixtureSpec): Promise<string> {
  return (await buildFixtureSnap(spec, join(tmp.dir, 'custom'))).path;
}

async function failure(p: BuildParams): Promise<{ kind: string; message: string }> {
  try {
    await runBuild(p, env());
  } catch (err) {
    assert.ok(isCoreforgeError(err), `expected a CoreforgeError, got ${(err as Error).stack}`);
    return { kind: err.kind, message: err.message };
  }
  return { kind: 'none', message: '<no error>' };
}

/** Python: SHA-256 of a sparse file, data read with SEEK_DATA/SEEK_HOLE and holes hashed as zeros. */
const sparseSha256Py = `
import hashlib, os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
size = os.fstat(fd).st_size
h = hashlib.sha256()
zeros = bytes(1 << 22)
def feed_zeros(n):
    while n > 0:
        k = min(n, len(zeros)); h.update(zeros[:k]); n -= k
pos = 0
while pos < size:
    try:
        data = os.lseek(fd, pos, os.SEEK_DATA)
    except OSError:
        data = size
    feed_zeros(data - pos)
    if data >= size:
        break
    hole = os.lseek(fd, data, os.SEEK_HOLE)
    while data < hole:
        chunk = os.pread(fd, min(1 << 22, hole - data), data)
        h.update(chunk); data += len(chunk)
    pos = hole
print(h.hexdigest())
`;

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

test('bad inputs fail the build with a clear error and leave no image', async () => {
  const stranger = signerFromKeyObject(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey);
  const byStranger = encodeAssertion(signAssertion('model', modelJSON('my-pi3', 'acme', modelTime), undefined, stranger, { time: new Date('2026-01-01T00:00:00Z') }));
  const pi = snapsFor(built, FIXTURE_MODELS['my-pi3']!);
  const pc20 = snapsFor(built, FIXTURE_MODELS['coreforge-pc-20-dangerous']!);
  const kernelAsApp = await custom({ ...fixtureSpec('pc-kernel-18'), id: 'test-kernel-as-app', fileName: 'test-kernel-as-app.snap', snapYaml: { ...(fixtureSpec('pc-kernel-18').snapYaml as Record<string, unknown>), type: 'app' } });
  const tinyBoot = await custom({
    ...fixtureSpec('pi-18'),
    id: 'test-pi-tiny-boot',
    fileName: 'test-pi-tiny-boot.snap',
    files: fixtureSpec('pi-18').files.map((f) => (f.path === 'meta/gadget.yaml' ? { path: f.path, text: PI_18_GADGET_YAML.replace('size: 256M', 'size: 393216') } : f)),
  });
  const twoVolumes = await custom({
    ...fixtureSpec('pi-18'),
    id: 'test-pi-two-volumes',
    fileName: 'test-pi-two-volumes.snap',
    files: fixtureSpec('pi-18').files.map((f) => (f.path === 'meta/gadget.yaml' ? { path: f.path, text: `${PI_18_GADGET_YAML}  extra:\n    schema: mbr\n    structure:\n      - name: data\n        type: 83\n        size: 1M\n` } : f)),
  });
  const cases: [string, BuildParams, string, string][] = [
    ['-o FILE for a gadget of two volumes', params('my-pi3', snapsWith('my-pi3', { 'pi-18': twoVolumes }), { imageName: 'pi3.img' }), 'invalid-gadget',
      'cannot name the image "pi3.img": the gadget defines 2 volumes (pi, extra), and -o names the image of a single-volume gadget; leave out -o to get VOLUME.img for each volume, in -O DIR'],
    ['unsigned model', { ...params('my-pi3', pi), model: JSON.stringify(modelJSON('my-pi3', 'acme', modelTime)) }, 'invalid-model',
      'cannot use model my-pi3.model: it is an unsigned model (JSON); sign it first ("snap sign -k KEY < model.json > model.assert" or "coreforge sign") and build with the signed model'],
    ['model signed by an unknown key', { ...params('my-pi3', pi), model: byStranger }, 'untrusted-model',
      `cannot verify model "my-pi3" of brand "acme": no matching public key "${stranger.publicKey.id}" for signature by "acme"; the key that signed it is unknown to coreforged: register it with the brand's store account ("coreforge login EMAIL", then "coreforge register-key KEY"), or "coreforge ack" the brand's account-key and account assertions`],
    ['model edited after signing', { ...params('my-pi3', pi), model: trust.signModel('my-pi3').replace('\nkernel: pi-kernel=18-pi3\n', '\nkernel: pi-kernel=18-pi2\n') }, 'untrusted-model',
      'cannot verify model "my-pi3" of brand "acme": failed signature verification: openpgp: invalid signature: hash tag doesn\'t match; the model was changed after it was signed: edit the JSON statement, not the signed model, and sign it again ("coreforge sign -k KEY model.json > model.model")'],
    ['model older than its key', { ...params('my-pi3', pi), model: trust.signModel('my-pi3', (m) => (m.timestamp = '2024-06-01T00:00:00+00:00')) }, 'untrusted-model',
      `cannot verify model "my-pi3" of brand "acme": assertion is signed with expired public key "${trust.brand.publicKey.id}" from "acme": assertion time is 2024-06-01T00:00:00Z but key is valid from 2025-01-01T00:00:00Z; the model's timestamp is before its key became valid (2025-01-01T00:00:00Z): sign it again with "coreforge sign --update-timestamp", or set "timestamp" in the JSON to a time after that`],
    ['not a model', { ...params('my-pi3', pi), model: encodeAssertion(trust.brandAccount) }, 'invalid-model',
      'assertion in "my-pi3.model" is not a model assertion (it is a account assertion); pass the signed model assertion'],
    ['snap for another architecture', params('coreforge-pc-18', snapsWith('coreforge-pc-18', { 'pc-kernel-18': built['bad-wrong-arch']!.path })), 'invalid-snap',
      'snap "pc-kernel" supported architectures (arm64) are incompatible with the model architecture (amd64)'],
    ['missing gadget', params('my-pi3', snapsWith('my-pi3', { 'pi-18': undefined })), 'invalid-snap-set',
      'cannot find gadget "pi" (channel 18-pi3), the gadget of model "my-pi3", among the local snap files, and no store is configured for builds; pass its .snap file with --snap PATH'],
    ['missing kernel', params('coreforge-pc-16', snapsWith('coreforge-pc-16', { 'pc-kernel-16': undefined })), 'invalid-snap-set',
      'cannot find kernel "pc-kernel" (channel 16), the kernel of model "coreforge-pc-16", among the local snap files, and no store is configured for builds; pass its .snap file with --snap PATH'],
    ['snap of the wrong type', params('coreforge-pc-18', snapsWith('coreforge-pc-18', { 'pc-kernel-18': kernelAsApp })), 'invalid-snap', 'kernel "pc-kernel" has unexpected type: app'],
    ['file that is not a snap', params('coreforge-pc-18', snapsWith('coreforge-pc-18', { 'pc-kernel-18': built['bad-not-squashfs']!.path })), 'invalid-snap',
      `cannot use snap file ${built['bad-not-squashfs']!.path}: it is not a squashfs snap with a meta/snap.yaml; pass a .snap built by snapcraft`],
    ['gadget without gadget.yaml', params('coreforge-pc-18', snapsWith('coreforge-pc-18', { 'pc-18': built['bad-gadget-no-gadget-yaml']!.path })), 'invalid-gadget',
      'cannot read meta/gadget.yaml of gadget snap bad-gadget-no-gadget-yaml.snap: the file is missing; a gadget snap must ship meta/gadget.yaml describing its volumes'],
    ['content source with ..', params('coreforge-pc-18', snapsWith('coreforge-pc-18', { 'pc-18': built['bad-gadget-dotdot']!.path })), 'invalid-gadget',
      'invalid volume "pc": invalid structure #2 ("EFI System"): invalid content #3: filesystem content source "../../../../etc/shadow" contains "../", which is disallowed for security purposes: it could reach outside the gadget snap; use a path inside the snap'],
    ['content symlink escaping the gadget', params('coreforge-pc-18', snapsWith('coreforge-pc-18', { 'pc-18': built['bad-gadget-symlink-escape']!.path })), 'invalid-gadget-content',
      'structure #2 ("EFI System"), content source:grub.cfg: source path is a symlink to a missing file; replace it with the file itself'],
    ['content larger than its structure', params('my-pi3', snapsWith('my-pi3', { 'pi-18': tinyBoot })), 'invalid-gadget-content',
      'cannot fit the content of structure #0 ("system-boot") of volume "pi": its files need at least 634880 bytes (620 KiB) but the structure is 393216 bytes (384 KiB); raise the structure size in gadget.yaml or ship less content'],
    ['unasserted local snap with a signed-grade model', params('coreforge-pc-20', snapsFor(built, FIXTURE_MODELS['coreforge-pc-20']!)), 'invalid-snap-set', notAllowedExceptForDangerous],
    // snapd's Customizations.validate refusals for UC20+, naming only what was asked for
    ['console-conf disable and cloud-init for UC20', params('coreforge-pc-20-dangerous', pc20, { disableConsoleConf: true, cloudInit: '#cloud-config\n' }), 'invalid-snap-set',
      'cannot support with UC20+ model requested customizations: console-conf disable, cloud-init user-data; snapd does not support --disable-console-conf or --cloud-init ' +
      'for UC20+ images (model "coreforge-pc-20-dangerous" has grade dangerous): leave them out (for cloud-init on UC20+, ship its config as cloud.conf in the gadget snap)'],
    ['cloud-init for UC20', params('coreforge-pc-20', pc20, { cloudInit: '#cloud-config\n', firstBoot: 'identity: {email: a@b.c}\n' }), 'invalid-snap-set',
      'cannot support with UC20+ model requested customizations: cloud-init user-data; snapd does not support --cloud-init for UC20+ images ' +
      '(model "coreforge-pc-20" has grade signed): leave it out (for cloud-init on UC20+, ship its config as cloud.conf in the gadget snap)'],
    ['console-conf disable for UC20', params('coreforge-pc-20-dangerous', pc20, { disableConsoleConf: true }), 'invalid-snap-set',
      'cannot support with UC20+ model requested customizations: console-conf disable; snapd does not support --disable-console-conf for UC20+ images ' +
      '(model "coreforge-pc-20-dangerous" has grade dangerous): leave it out'],
  ];
  for (const [what, p, kind, message] of cases) {
    const got = await failure(p);
    assert.equal(got.kind, kind, what);
    assert.equal(got.message, message, what);
    let left: string[] = [];
    try {
      left = readdirSync(p.outputDir).filter((f) => f.includes('.img'));
    } catch {
      // never created
    }
    assert.deepEqual(left, [], `${what}: no image left`);
  }
});

/** Mounts a small tmpfs (read-only when asked) for the duration of `fn`. */
async function withTmpfs(dir: string, options: string, fn: () => Promise<void>): Promise<void> {
  await mkdir(dir, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir]);
  try {
    await fn();
  } finally {
    execFileSync('umount', [dir]);
  }
}

test('an output dir that is not writable and a full disk are clean errors with no image left', async () => {
  const pi = snapsFor(built, FIXTURE_MODELS['my-pi3']!);
  const ro = join(tmp.dir, 'ro');
  await withTmpfs(ro, 'size=1M,ro', async () => {
    const got = await failure(params('my-pi3', pi, { outputDir: ro }));
    assert.deepEqual(got, { kind: 'output-not-writable', message: `cannot use output directory ${ro}: it is not writable (EROFS); choose a directory you can write to with -O` });
  });
  const full = join(tmp.dir, 'full');
  await withTmpfs(full, 'size=256k', async () => {
    const p = params('my-pi3', pi, { outputDir: full });
    const got = await failure(p);
    assert.equal(got.kind, 'no-space', got.message);
    assert.match(got.message, /^cannot make the vfat filesystem of structure #0 \("system-boot"\) of volume "pi": no space left on device|^cannot copy the content of structure #0 .*no space left on device|^cannot .*: no space left on device/);
    assert.deepEqual(readdirSync(full).filter((f) => f.includes('.img')), []);
  });
});

test('a build stopped after a step and resumed gives the same image as one run straight through', async () => {
  const pi = snapsFor(built, FIXTURE_MODELS['my-pi3']!);
  const straight = params('my-pi3', pi);
  const logs: string[] = [];
  const state = await runBuild(straight, env(logs));
  assert.deepEqual(state.done.at(-1), 'finish');
  const resumed = { ...params('my-pi3', pi), model: straight.model };
  const partial = await runBuild(resumed, env(), { until: 'write-seed' });
  assert.deepEqual(partial.done, ['prepare', 'verify-model', 'read-snaps', 'resolve-snaps', 'unpack-gadget', 'write-seed']);
  assert.deepEqual(readdirSync(resumed.outputDir), []);
  const done = await runBuild(resumed, env(), { resume: true });
  assert.equal(done.timings['write-seed'], partial.timings['write-seed'], 'finished steps are not run again');
  assert.equal(sha256(join(resumed.outputDir, 'pi.img')), sha256(join(straight.outputDir, 'pi.img')));
  assert.equal(readFileSync(join(resumed.outputDir, 'pi.img.bmap'), 'utf8'), readFileSync(join(straight.outputDir, 'pi.img.bmap'), 'utf8'));
  const other = { ...resumed, channel: 'beta' };
  assert.deepEqual(await failure({ ...other }).then((f) => f.kind), 'none');
});

test('a build resumed after build-volumes writes the same bmap from the ranges that step hashed, or hashes them when its saved state has none (an older coreforged\'s)', async () => {
  const pi = snapsFor(built, FIXTURE_MODELS['my-pi3']!);
  const straight = params('my-pi3', pi);
  await runBuild(straight, env());
  const expected = readFileSync(join(straight.outputDir, 'pi.img.bmap'), 'utf8');
  for (const keepRanges of [true, false]) {
    const resumed = { ...params('my-pi3', pi), model: straight.model };
    const partial = await runBuild(resumed, env(), { until: 'build-volumes' });
    assert.ok(partial.volumes?.[0]?.bmap, 'build-volumes saves the hashed bmap ranges');
    if (!keepRanges) {
      const stateFile = join(resumed.workDir!, 'build-state.json');
      const saved = JSON.parse(readFileSync(stateFile, 'utf8')) as { volumes: { bmap?: unknown }[] };
      for (const v of saved.volumes) delete v.bmap;
      writeFileSync(stateFile, JSON.stringify(saved));
    }
    const done = await runBuild(resumed, env(), { resume: true });
    assert.equal(done.done.at(-1), 'finish');
    assert.equal(readFileSync(join(resumed.outputDir, 'pi.img.bmap'), 'utf8'), expected, keepRanges ? 'saved ranges' : 'ranges hashed by write-bmap');
  }
});

test('an image size too small is grown with a warning', async () => {
  const logs: string[] = [];
  const p = params('my-pi3', snapsFor(built, FIXTURE_MODELS['my-pi3']!), { imageSize: 1024 * 1024 });
  const state = await runBuild(p, env(logs));
  const warning = 'WARNING: image size 1048576 (1 MiB) for volume "pi" is smaller than the minimum of 303038464 bytes (289 MiB); the image is grown to that size';
  assert.ok(logs.includes(warning), logs.join('\n'));
  assert.ok(state.warnings.includes(warning));
  assert.equal(state.volumes?.[0]?.size, 303038464);
});

test('a local snap with a .assert beside it is seeded asserted, with its revision, snap-id, channel and assertions', async () => {
  const dir = join(tmp.dir, 'asserted');
  await mkdir(dir, { recursive: true });
  const kernel = built['pi-kernel-18']!;
  const path = join(dir, kernel.fileName);
  await copyFile(kernel.path, path);
  const root = await signerFromArmored(join(chainsDir, 'snapd-testkeys/test-root.private.asc'));
  const time = { time: new Date('2026-01-01T00:00:00Z') };
  const snapId = fixtureSnapId('pi-kernel');
  const decl = signAssertion('snap-declaration', { 'authority-id': 'testrootorg', series: '16', 'snap-id': snapId, 'snap-name': 'pi-kernel', 'publisher-id': 'acme', timestamp: '2026-01-01T00:00:00Z' }, undefined, root, time);
  const rev = signAssertion('snap-revision', {
    'authority-id': 'testrootorg', 'snap-sha3-384': kernel.sha3_384, 'snap-id': snapId, 'snap-size': String(kernel.size),
    'snap-revision': '42', 'developer-id': 'acme', timestamp: '2026-01-01T00:00:00Z',
  }, undefined, root, time);
  writeFileSync(path.replace(/\.snap$/, '.assert'), `${encodeAssertion(decl)}\n${encodeAssertion(rev)}`);
  const logs: string[] = [];
  const p = params('my-pi3', snapsWith('my-pi3', { 'pi-kernel-18': path }), { channel: 'beta' });
  await runBuild(p, env(logs), { until: 'write-seed' });
  const seedDir = join(p.workDir!, 'rootfs/system-data/var/lib/snapd/seed');
  assert.equal(
    readFileSync(join(seedDir, 'seed.yaml'), 'utf8'),
    'snaps:\n- name: snapd\n  unasserted: true\n  file: snapd_x1.snap\n' +
      `- name: pi-kernel\n  snap-id: ${snapId}\n  channel: 18-pi3/beta\n  file: pi-kernel_42.snap\n` +
      '- name: core18\n  unasserted: true\n  file: core18_x1.snap\n- name: pi\n  unasserted: true\n  file: pi_x1.snap\n',
  );
  const asserts = readdirSync(join(seedDir, 'assertions'));
  assert.ok(asserts.includes(`16,${snapId}.snap-declaration`) && asserts.includes(`${kernel.sha3_384}.snap-revision`), asserts.join(' '));
  assert.ok(logs.includes('WARNING: "snapd", "core18", "pi" installed from local snaps disconnected from a store cannot be refreshed subsequently!'), logs.join('\n'));
  writeFileSync(path.replace(/\.snap$/, '.assert'), encodeAssertion(decl));
  assert.deepEqual(await failure(params('my-pi3', snapsWith('my-pi3', { 'pi-kernel-18': path }))), {
    kind: 'invalid-snap',
    message: `cannot use assertions ${path.replace(/\.snap$/, '.assert')}: no snap-revision for ${kernel.fileName} (sha3-384 ${kernel.sha3_384}); download the matching .assert with the snap`,
  });
});

test('a build aborted while it writes a volume stops its tools and leaves no image, partial or complete', async () => {
  const controller = new AbortController();
  const p = params('my-pi3', snapsFor(built, FIXTURE_MODELS['my-pi3']!));
  const e: BuildEnv = { ...env(), signal: controller.signal, progress: (phase) => phase.startsWith('write') && controller.abort() };
  await assert.rejects(runBuild(p, e), (err: Error & { kind?: string }) => {
    assert.equal(err.kind, 'aborted');
    assert.equal(err.message, 'cannot make the vfat filesystem of structure #0 ("system-boot") of volume "pi": the build was stopped');
    return true;
  });
  assert.deepEqual(readdirSync(p.outputDir), []);
});

test('the UC20 signed-grade model builds from asserted local snaps into the seed\'s snaps dir, without options.yaml', async () => {
  const snaps = await assertedSnaps(join(tmp.dir, 'asserted-20'), FIXTURE_MODELS['coreforge-pc-20']!.map((id) => built[id]!));
  const logs: string[] = [];
  const p = params('coreforge-pc-20', snaps);
  const state = await runBuild(p, env(logs));
  assert.equal(state.done.at(-1), 'finish');
  const seed = join(p.workDir!, 'ubuntu-seed');
  assert.deepEqual(readdirSync(join(seed, 'snaps')).sort(), ['core20_7.snap', 'pc-kernel_7.snap', 'pc_7.snap', 'snapd_7.snap']);
  // Only the kernel's metadata and the parts the gadget refers to are unpacked, not its modules and firmware.
  assert.deepEqual(readdirSync(join(p.workDir!, 'unpack/kernel')), ['meta']);
  assert.deepEqual(readdirSync(join(seed, 'systems/20260101')).sort(), ['assertions', 'model']);
  const snapAsserts = readFileSync(join(seed, 'systems/20260101/assertions/snaps'), 'utf8');
  assert.equal(snapAsserts.match(/^type: snap-revision$/gm)?.length, 4);
  assert.equal(snapAsserts.match(/^type: snap-declaration$/gm)?.length, 4);
  assert.match(readFileSync(join(seed, 'systems/20260101/assertions/model-etc'), 'utf8'), /^type: account-key$/m);
  assert.deepEqual(logs.filter((l) => l.startsWith('WARNING')), []);
  assert.equal(readFileSync(join(p.outputDir, 'seed.manifest'), 'utf8'), 'core20 7\npc 7\npc-kernel 7\nsnapd 7\n');
  assert.ok(readdirSync(p.outputDir).includes('pc.img'));
  // The image's digest is left to the daemon, after the build. It hashes the holes of the 3 GiB sparse image
  // from memory, reading only what the bmap maps: still the file's real SHA-256 (checked with Python's hashlib,
  // walking the file's data with SEEK_DATA/SEEK_HOLE: reading 3 GiB of holes is slow here).
  const image = join(p.outputDir, 'pc.img');
  assert.equal(state.artifacts!.find((a) => a.name === 'pc.img')!.sha256, null);
  assert.equal(await imageSha256(image), execFileSync('python3', ['-c', sparseSha256Py, image], { encoding: 'utf8' }).trim());
});

test('a kernel or gadget from another publisher is refused, as snapd does', async () => {
  const snaps = await assertedSnaps(join(tmp.dir, 'other-publisher'), FIXTURE_MODELS['my-pi3']!.map((id) => built[id]!), { publisher: 'mallory' });
  assert.deepEqual(await failure(params('my-pi3', snaps)), { kind: 'invalid-snap', message: 'cannot use gadget "pi" published by "mallory" for model by "acme"' });
});

test('a 4096-byte sector build of the UC16 pc model gives a GPT that a 4K loop device reads, with clean filesystems', async () => {
  const p = params('coreforge-pc-16', snapsFor(built, FIXTURE_MODELS['coreforge-pc-16']!), { sectorSize: 4096 });
  await runBuild(p, env());
  const image = join(p.outputDir, 'pc.img');
  const dev = execFileSync('losetup', ['-f', '--show', '-r', '-b', '4096', image], { encoding: 'utf8' }).trim();
  let table: { sectorsize: number; partitions: { start: number; size: number; name: string }[] };
  try {
    table = JSON.parse(execFileSync('sfdisk', ['--json', dev], { encoding: 'utf8' })).partitiontable;
  } finally {
    execFileSync('losetup', ['-d', dev]);
  }
  assert.equal(table.sectorsize, 4096);
  assert.deepEqual(table.partitions.map((x) => [x.start, x.size, x.name]), [[256, 256, 'BIOS Boot'], [512, 12800, 'EFI System'], [13312, 8192, 'writable']]);
  for (const [x, check] of [[table.partitions[1]!, ['fsck.vfat', '-n']], [table.partitions[2]!, ['e2fsck', '-fn']]] as const) {
    const part = execFileSync('losetup', ['-f', '--show', '-r', '-o', String(x.start * 4096), '--sizelimit', String(x.size * 4096), image], { encoding: 'utf8' }).trim();
    try {
      execFileSync(check[0], [...check.slice(1), part], { stdio: 'pipe' });
    } finally {
      execFileSync('losetup', ['-d', part]);
    }
  }
});
