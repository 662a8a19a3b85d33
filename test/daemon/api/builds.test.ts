import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, readSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeAssertion } from '../../../daemon/asserts/index.js';
import { Database } from '../../../daemon/db/database.js';
import { parseImageSize } from '../../../daemon/image/pipeline/request.js';
import type { BuildInfo, ChangeInfo, GadgetLayoutResult } from '../../../daemon/api/types.js';
import { decodeGrubEnv, ubootEnvVars } from '../../../daemon/image/pipeline/bootenv.js';
import { FIXTURE_MODELS, modelJSON } from '../../fixtures/models.js';
import { PI_18_GADGET_YAML } from '../../fixtures/catalog/gadget-yamls.js';
import type { BuiltFixture } from '../../fixtures/snaps.js';
import { runCli, startDaemon, type DaemonProcess } from '../../helpers/daemon.js';
import { makeTempDir } from '../../helpers/tmp.js';
import { fixtureSnaps, modelTime, snapsFor, testTrust, type TestTrust } from '../image/pipeline/helpers.js';

let tmp: { dir: string; cleanup(): Promise<void> };
let daemon: DaemonProcess;
let built: Record<string, BuiltFixture>;
let trust: TestTrust;
const stateDir = () => join(tmp.dir, 'state');
const socketPath = () => join(tmp.dir, 'coreforge.socket');

async function start(): Promise<void> {
  daemon = await startDaemon({ socketPath: socketPath(), stateDir: stateDir() });
}

before(async () => {
  tmp = await makeTempDir('coreforge-builds-api-');
  [built, trust] = await Promise.all([fixtureSnaps(join(tmp.dir, 'snaps')), testTrust()]);
  await start();
  await daemon.transport.call('POST', '/v1/assertions', { assertions: `${encodeAssertion(trust.root)}\n${encodeAssertion(trust.rootAccount)}`, trusted: true });
  await daemon.transport.call('POST', '/v1/assertions', { assertions: `${encodeAssertion(trust.brandAccount)}\n${encodeAssertion(trust.brandKey)}` });
  for (const name of Object.keys(FIXTURE_MODELS)) writeFileSync(join(tmp.dir, `${name}.model`), trust.signModel(name));
});
after(async () => {
  await daemon.stop();
  if (!process.env.KEEP_TMP) await tmp.cleanup();
});

function snapArgs(name: string): string[] {
  return snapsFor(built, FIXTURE_MODELS[name]!).flatMap((p) => ['--snap', p]);
}

async function cliBuild(name: string, out: string, extra: string[] = []) {
  return runCli(['build', '-O', out, ...snapArgs(name), ...extra, join(tmp.dir, `${name}.model`)], { socketPath: socketPath(), timeoutMs: 120_000 });
}

interface SfdiskPartition {
  start: number;
  size: number;
  type: string;
  name?: string;
  bootable?: boolean;
}
function partitions(image: string): { label: string; partitions: SfdiskPartition[] } {
  return JSON.parse(execFileSync('sfdisk', ['--json', image], { encoding: 'utf8' })).partitiontable;
}

/** Copies one partition out of the image (fsck tools want a whole device). */
function extract(image: string, p: SfdiskPartition, name: string): string {
  const out = join(tmp.dir, name);
  execFileSync('dd', [`if=${image}`, `of=${out}`, 'bs=1M', 'iflag=skip_bytes,count_bytes', `skip=${p.start * 512}`, `count=${p.size * 512}`, 'status=none']);
  return out;
}

/** Runs `fn` on a read-only loop device over one partition of the image (no copy). */
function onLoop<T>(image: string, p: SfdiskPartition, fn: (dev: string) => T): T {
  const dev = execFileSync('losetup', ['-f', '--show', '-r', '-o', String(p.start * 512), '--sizelimit', String(p.size * 512), image], { encoding: 'utf8' }).trim();
  try {
    return fn(dev);
  } finally {
    execFileSync('losetup', ['-d', dev]);
  }
}
function fsckVfat(image: string, p: SfdiskPartition): void {
  onLoop(image, p, (dev) => execFileSync('fsck.vfat', ['-n', dev], { encoding: 'utf8' }));
}
function e2fsck(image: string, p: SfdiskPartition): void {
  onLoop(image, p, (dev) => execFileSync('e2fsck', ['-fn', dev], { stdio: 'pipe' }));
}
function mdir(image: string, offset: number, path: string): string {
  return execFileSync('mdir', ['-i', `${image}@@${offset}`, '-b', path], { encoding: 'utf8', env: { ...process.env, MTOOLS_SKIP_CHECK: '1' } });
}
function mdirLong(image: string, offset: number, path: string): string {
  return execFileSync('mdir', ['-i', `${image}@@${offset}`, path], { encoding: 'utf8', env: { ...process.env, MTOOLS_SKIP_CHECK: '1' } });
}
function mread(image: string, offset: number, path: string): Buffer {
  const out = join(tmp.dir, 'mread.bin');
  execFileSync('mcopy', ['-n', '-o', '-i', `${image}@@${offset}`, `::${path}`, out], { env: { ...process.env, MTOOLS_SKIP_CHECK: '1' } });
  return readFileSync(out);
}
function debugfs(part: string, command: string): string {
  return execFileSync('debugfs', ['-R', command, part], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
}
function sha256(path: string): string {
  return execFileSync('sha256sum', [path], { encoding: 'utf8' }).split(' ')[0]!;
}
/**
 * `bmaptool copy` of the image into a file reproduces it byte for byte. For
 * big sparse images (UC20: 3 GiB, mostly holes) reading every byte twice is
 * slow here, so `full: false` compares the mapped ranges and checks with
 * filefrag that the image holds no data outside them.
 */
function bmapCopyMatches(image: string, full = true): void {
  const copy = join(tmp.dir, 'bmap-copy.img');
  execFileSync('bmaptool', ['copy', '--bmap', `${image}.bmap`, image, copy], { stdio: 'pipe' });
  try {
    if (full) {
      execFileSync('cmp', [image, copy]);
      return;
    }
    const ranges = [...readFileSync(`${image}.bmap`, 'utf8').matchAll(/<Range[^>]*>\s*(\d+)(?:-(\d+))?\s*<\/Range>/g)].map((m) => [Number(m[1]), Number(m[2] ?? m[1])] as const);
    const [a, b] = [openSync(image, 'r'), openSync(copy, 'r')];
    try {
      for (const [first, last] of ranges) {
        const length = (last - first + 1) * 4096;
        const [x, y] = [Buffer.alloc(length), Buffer.alloc(length)];
        readSync(a, x, 0, length, first * 4096);
        readSync(b, y, 0, length, first * 4096);
        assert.ok(x.equals(y), `blocks ${first}-${last}`);
      }
    } finally {
      closeSync(a);
      closeSync(b);
    }
    const extents = execFileSync('filefrag', ['-s', '-v', '-b4096', image], { encoding: 'utf8' });
    for (const m of extents.matchAll(/^\s*\d+:\s+(\d+)\.\.\s*(\d+):/gm)) {
      const [a, b] = [Number(m[1]), Number(m[2])];
      assert.ok(ranges.some(([first, last]) => a >= first && b <= last), `data extent ${a}-${b} is in the bmap`);
    }
    assert.equal(execFileSync('stat', ['-c', '%s', copy], { encoding: 'utf8' }), execFileSync('stat', ['-c', '%s', image], { encoding: 'utf8' }));
  } finally {
    execFileSync('rm', ['-f', copy]);
  }
}

test('the UC18 my-pi3 model builds through the daemon into a bootable pi.img', async () => {
  const out = join(tmp.dir, 'pi-out');
  const res = await cliBuild('my-pi3', out, ['-c', 'beta']);
  assert.equal(res.code, 0, res.stderr);
  assert.match(res.stdout, /build \d+ done: model "my-pi3"/);
  assert.match(res.stderr, /WARNING: "snapd", "pi-kernel", "core18", "pi" installed from local snaps disconnected from a store cannot be refreshed subsequently!/);
  const image = join(out, 'pi.img');
  const table = partitions(image);
  assert.equal(table.label, 'dos');
  assert.deepEqual(table.partitions.map((p) => [p.start, p.size, p.type, p.bootable ?? false]), [
    [2048, 524288, 'c', true],
    [526336, 65536, '83', false],
  ]);
  const [boot, data] = table.partitions as [SfdiskPartition, SfdiskPartition];
  fsckVfat(image, boot);
  e2fsck(image, data);
  const writable = extract(image, data, 'pi-writable.part');
  const listing = mdir(image, boot.start * 512, '::/');
  for (const f of ['::/uboot.env', '::/config.txt', '::/bcm2710-rpi-3-b.dtb', '::/pi-kernel_x1.snap/']) assert.ok(listing.includes(f), `${f} in\n${listing}`);
  assert.ok(mdir(image, boot.start * 512, '::/pi-kernel_x1.snap').includes('kernel.img'));
  const env = ubootEnvVars(mread(image, boot.start * 512, '/uboot.env'), 'uboot.env');
  assert.equal(env.snap_core, 'core18_x1.snap');
  assert.equal(env.snap_kernel, 'pi-kernel_x1.snap');
  assert.equal(env.snap_mode, undefined);
  assert.equal(
    debugfs(writable, 'cat /system-data/var/lib/snapd/seed/seed.yaml'),
    'snaps:\n- name: snapd\n  unasserted: true\n  file: snapd_x1.snap\n- name: pi-kernel\n  unasserted: true\n  file: pi-kernel_x1.snap\n' +
      '- name: core18\n  unasserted: true\n  file: core18_x1.snap\n- name: pi\n  unasserted: true\n  file: pi_x1.snap\n',
  );
  const asserts = debugfs(writable, 'ls /system-data/var/lib/snapd/seed/assertions');
  for (const f of ['model', 'acme.account', `${trust.brand.publicKey.id}.account-key`]) assert.ok(asserts.includes(f), `${f} in ${asserts}`);
  assert.equal(debugfs(writable, 'cat /system-data/var/lib/snapd/seed/assertions/model'), readFileSync(join(tmp.dir, 'my-pi3.model'), 'utf8'));
  const seedSnaps = debugfs(writable, 'ls /system-data/var/lib/snapd/seed/snaps');
  for (const f of ['snapd_x1.snap', 'pi-kernel_x1.snap', 'core18_x1.snap', 'pi_x1.snap']) assert.ok(seedSnaps.includes(f));
  assert.match(debugfs(writable, 'stat /system-data/var/lib/snapd/snaps/pi-kernel_x1.snap'), /Fast link dest: "\.\.\/seed\/snaps\/pi-kernel_x1\.snap"/);
  bmapCopyMatches(image);

  const report = JSON.parse(readFileSync(join(out, 'build.json'), 'utf8'));
  assert.deepEqual(report.snaps.map((s: { name: string; channel: string; revision: string }) => [s.name, s.channel, s.revision]), [
    ['snapd', 'beta', 'x1'], ['pi-kernel', '18-pi3/beta', 'x1'], ['core18', 'beta', 'x1'], ['pi', '18-pi3/beta', 'x1'],
  ]);
  assert.equal(readFileSync(join(out, 'seed.manifest'), 'utf8'), 'core18 x1\npi x1\npi-kernel x1\nsnapd x1\n');
  const builds = (await daemon.transport.call('GET', '/v1/builds')) as BuildInfo[];
  const info = (await daemon.transport.call('GET', `/v1/builds/${builds.at(-1)!.id}`)) as BuildInfo;
  assert.equal(info.status, 'Done');
  assert.deepEqual(info.artifacts.map((a) => a.name), ['pi.img', 'pi.img.bmap', 'seed.manifest', 'snaps.manifest']);
  // The image's SHA-256 comes after the build: `builds ID --wait` waits for it; build.json gets it too.
  const waited = await runCli(['builds', info.id, '--wait', '--json'], { socketPath: socketPath() });
  assert.equal(waited.code, 0, waited.stderr);
  const digested = JSON.parse(waited.stdout) as BuildInfo;
  assert.equal(digested['digests-pending'], false);
  assert.equal(digested.artifacts[0]!.sha256, sha256(image));
  assert.equal(JSON.parse(readFileSync(join(out, 'build.json'), 'utf8')).artifacts[0].sha256, sha256(image));
  const shown = await runCli(['builds', info.id], { socketPath: socketPath() });
  assert.equal(shown.code, 0, shown.stderr);
  assert.match(shown.stdout, new RegExp(`build ${info.id}: Done, model "my-pi3" of acme`));
  assert.ok(shown.stdout.includes(sha256(image)));
  const listed = await runCli(['builds'], { socketPath: socketPath() });
  assert.match(listed.stdout, new RegExp(`${info.id} +Done +my-pi3`));
  const change = (await daemon.transport.call('GET', `/v1/changes/${info.change}`)) as ChangeInfo;
  assert.deepEqual(change.tasks.map((t) => t.summary), ['prepare', 'verify-model', 'read-snaps', 'resolve-snaps', 'unpack-gadget', 'write-seed', 'stage-content', 'build-volumes', 'write-bmap', 'finish']);
  assert.ok(change.tasks.every((t) => t.status === 'Done'));
});

test('image digests a daemon stop interrupted are computed when it starts again', async () => {
  const out = join(tmp.dir, 'digests-out');
  const res = await cliBuild('my-pi3', out, ['-c', 'beta']);
  assert.equal(res.code, 0, res.stderr);
  const image = join(out, 'pi.img');
  const build = ((await daemon.transport.call('GET', '/v1/builds')) as BuildInfo[]).find((b) => b['output-dir'] === out)!;
  // as in a build whose digests were recorded, then lost below
  assert.equal((await runCli(['builds', build.id, '--wait'], { socketPath: socketPath() })).code, 0);
  await daemon.stop();
  // As if the daemon had stopped before hashing the image: its digest unknown in state.db and build.json.
  const db = await Database.open(join(stateDir(), 'state.db'));
  const row = (await db.get<{ artifacts: string }>('SELECT artifacts FROM builds WHERE id = ?', [build.id]))!;
  const artifacts = (JSON.parse(row.artifacts) as BuildInfo['artifacts']).map((a) => (a.name === 'pi.img' ? { ...a, sha256: null } : a));
  await db.run('UPDATE builds SET artifacts = ? WHERE id = ?', [JSON.stringify(artifacts), build.id]);
  await db.close();
  const reportPath = join(out, 'build.json');
  const report = JSON.parse(readFileSync(reportPath, 'utf8'));
  report.artifacts[0].sha256 = null;
  writeFileSync(reportPath, JSON.stringify(report));
  await start();
  const waited = await runCli(['builds', build.id, '--wait', '--json'], { socketPath: socketPath() });
  assert.equal(waited.code, 0, waited.stderr);
  assert.equal((JSON.parse(waited.stdout) as BuildInfo).artifacts.find((a) => a.name === 'pi.img')!.sha256, sha256(image));
  assert.equal(JSON.parse(readFileSync(reportPath, 'utf8')).artifacts[0].sha256, sha256(image));
});

test('the UC16 pc model builds into a GPT pc.img with grub environment and offset-write', async () => {
  const out = join(tmp.dir, 'pc16-out');
  const snapFiles = FIXTURE_MODELS['coreforge-pc-16']!.map((id) => built[id]!.path);
  const times = () => snapFiles.map((f) => statSync(f).mtimeMs);
  const timesBefore = times();
  const res = await runCli(['snap', '-O', out, ...snapArgs('coreforge-pc-16'), '--disable-console-conf', join(tmp.dir, 'coreforge-pc-16.model')], { socketPath: socketPath(), timeoutMs: 120_000 });
  assert.equal(res.code, 0, res.stderr);
  // The seed tree hard-links the snap files (same filesystem here): the build leaves their content and
  // modification times alone (only the link count, and so the ctime, changes while the link exists).
  assert.deepEqual(times(), timesBefore);
  const image = join(out, 'pc.img');
  const table = partitions(image);
  assert.equal(table.label, 'gpt');
  assert.deepEqual(table.partitions.map((p) => [p.start, p.size, p.type, p.name]), [
    [2048, 2048, '21686148-6449-6E6F-744E-656564454649', 'BIOS Boot'],
    [4096, 102400, 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B', 'EFI System'],
    [106496, 65536, '0FC63DAF-8483-4772-8E79-3D69D8477DE4', 'writable'],
  ]);
  const bytes = readFileSync(image);
  assert.equal(bytes.readUInt32LE(92), 2048, 'offset-write: mbr+92 holds the BIOS Boot start sector');
  const bootImg = execFileSync('unsquashfs', ['-cat', built['pc-16']!.path, 'pc-boot.img']);
  bootImg.writeUInt32LE(2048, 92);
  assert.equal(bytes.subarray(0, 440).toString('hex'), bootImg.toString('hex'), 'the mbr structure holds pc-boot.img (with the offset-write)');
  const [, esp, data] = table.partitions as [SfdiskPartition, SfdiskPartition, SfdiskPartition];
  fsckVfat(image, esp);
  e2fsck(image, data);
  const writable = extract(image, data, 'pc-writable.part');
  const env = Object.fromEntries(decodeGrubEnv(mread(image, esp.start * 512, '/EFI/ubuntu/grubenv')));
  assert.deepEqual(env, { snap_mode: '', snap_try_core: '', snap_try_kernel: '', snap_core: 'core_x1.snap', snap_kernel: 'pc-kernel_x1.snap' });
  assert.ok(mdir(image, esp.start * 512, '::/EFI/boot').includes('bootx64.efi'));
  assert.equal(
    debugfs(writable, 'cat /system-data/var/lib/snapd/seed/seed.yaml'),
    'snaps:\n- name: core\n  unasserted: true\n  file: core_x1.snap\n- name: pc-kernel\n  unasserted: true\n  file: pc-kernel_x1.snap\n- name: pc\n  unasserted: true\n  file: pc_x1.snap\n',
  );
  assert.match(debugfs(writable, 'ls -l /system-data/_writable_defaults/var/lib/console-conf'), /complete/);
  // ...and every inode copied into system-data carries the model's timestamp, whatever the source file had.
  const kernelStat = debugfs(writable, 'stat /system-data/var/lib/snapd/seed/snaps/pc-kernel_x1.snap');
  for (const field of ['mtime', 'ctime', 'atime']) assert.match(kernelStat, new RegExp(` ${field}: 0x[0-9a-f]+:00000000 -- Thu Jan  1 00:00:00 2026`), `${field} in ${kernelStat}`);
  bmapCopyMatches(image);
});

test('the UC20 dangerous pc model builds into pc.img with the recovery system and the first-boot file on ubuntu-seed', async () => {
  const out = join(tmp.dir, 'pc20-out');
  const firstBoot = 'identity:\n  keys-from: gh:octo\nnetwork:\n  version: 2\n';
  writeFileSync(join(tmp.dir, 'pc20-first-boot.yaml'), firstBoot);
  const res = await cliBuild('coreforge-pc-20-dangerous', out, ['--first-boot', join(tmp.dir, 'pc20-first-boot.yaml')]);
  assert.equal(res.code, 0, res.stderr);
  const image = join(out, 'pc.img');
  const table = partitions(image);
  assert.deepEqual(table.partitions.map((p) => [p.start, p.size, p.type, p.name]), [
    [2048, 2048, '21686148-6449-6E6F-744E-656564454649', 'BIOS Boot'],
    [4096, 2457600, 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B', 'ubuntu-seed'],
  ]);
  const seed = table.partitions[1]!;
  fsckVfat(image, seed);
  const off = seed.start * 512;
  const system = mdir(image, off, '::/systems/20260101');
  for (const f of ['model', 'options.yaml', 'assertions/', 'snaps/']) assert.ok(system.includes(`::/systems/20260101/${f}`), system);
  assert.ok(mdir(image, off, '::/systems/20260101/snaps').includes('pc-kernel_5.4.0-174.193.1.snap'));
  assert.ok(mdir(image, off, '::/systems/20260101/assertions').includes('model-etc'));
  assert.deepEqual(Object.fromEntries(decodeGrubEnv(mread(image, off, '/EFI/ubuntu/grubenv'))), { snapd_recovery_mode: 'install', snapd_recovery_system: '20260101' });
  assert.equal(mread(image, off, '/systems/20260101/model').toString('utf8'), readFileSync(join(tmp.dir, 'coreforge-pc-20-dangerous.model'), 'utf8'));
  // --first-boot: no system-data in a UC20 image, so at the root of ubuntu-seed (/var/lib/snapd/seed in run mode), where console-conf looks
  const fb = execFileSync('mcopy', ['-n', '-i', `${image}@@${off}`, '::/coreforge/first-boot.yaml', '-'], { encoding: 'utf8', env: { ...process.env, MTOOLS_SKIP_CHECK: '1' } });
  assert.equal(fb, firstBoot);
  assert.deepEqual(mdir(image, off, '::/coreforge').split('\n').filter((l) => l !== ''), ['::/coreforge/first-boot.yaml']);
  // The seed links its snaps to their files and mcopy copies them from there: same bytes, epoch timestamps.
  const kernel = built['pc-kernel-20']!;
  assert.ok(mread(image, off, '/systems/20260101/snaps/pc-kernel_5.4.0-174.193.1.snap').equals(readFileSync(kernel.path)));
  assert.match(mdirLong(image, off, '::/systems/20260101/snaps'), /pc-kernel_5\.4\.0-174\.193\.1\.snap/);
  assert.doesNotMatch(mdirLong(image, off, '::/systems/20260101/snaps'), /\b20(?!26-01-01)\d\d-\d\d-\d\d\b/);
  // Unasserted snaps have no SHA3-384 in snapd's seed; build.json records their SHA-256, computed beside the build.
  const report = JSON.parse(readFileSync(join(out, 'build.json'), 'utf8')) as { snaps: { file: string; sha256: string; 'sha3-384'?: string }[] };
  for (const s of report.snaps) {
    assert.equal(s.sha256, sha256(s.file), s.file);
    assert.equal(s['sha3-384'], undefined);
  }
  bmapCopyMatches(image, false);

  // What snapd refuses for UC20+ models is refused with snapd's message, before any work.
  const refused = await cliBuild('coreforge-pc-20-dangerous', join(tmp.dir, 'pc20-refused'), ['--disable-console-conf', '--cloud-init', join(tmp.dir, 'pc20-first-boot.yaml')]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /cannot support with UC20\+ model requested customizations: console-conf disable, cloud-init user-data; snapd does not support --disable-console-conf or --cloud-init for UC20\+ images/);
  assert.ok(!existsSync(join(tmp.dir, 'pc20-refused', 'pc.img')));
});

test('a build killed with the daemon and resumed with --resume gives the same image', async () => {
  const reference = join(tmp.dir, 'resume-reference');
  const straight = await cliBuild('my-pi3', reference, ['-c', 'beta']);
  assert.equal(straight.code, 0, straight.stderr);
  const out = join(tmp.dir, 'resume-out');
  const work = join(tmp.dir, 'resume-work');
  const model = readFileSync(join(tmp.dir, 'my-pi3.model'), 'utf8');
  const id = (await daemon.transport.call('POST', '/v1/builds', {
    model,
    'model-source': 'my-pi3.model',
    snaps: snapsFor(built, FIXTURE_MODELS['my-pi3']!),
    channel: 'beta',
    'output-dir': out,
    workdir: work,
    thru: 'stage-content',
  })) as string;
  for (;;) {
    const c = (await daemon.transport.call('GET', `/v1/changes/${id}`)) as ChangeInfo;
    if (c.ready) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  await daemon.crash();
  await start();
  assert.deepEqual(readdirSync(out).filter((f) => f.endsWith('.img')), []);
  const res = await cliBuild('my-pi3', out, ['-c', 'beta', '-w', work, '--resume']);
  assert.equal(res.code, 0, res.stderr);
  assert.equal(sha256(join(out, 'pi.img')), sha256(join(reference, 'pi.img')));

  // Killed in the middle of a step this time: the step runs again on resume.
  const out2 = join(tmp.dir, 'resume-out-2');
  const work2 = join(tmp.dir, 'resume-work-2');
  const id2 = (await daemon.transport.call('POST', '/v1/builds', {
    model,
    'model-source': 'my-pi3.model',
    snaps: snapsFor(built, FIXTURE_MODELS['my-pi3']!),
    channel: 'beta',
    'output-dir': out2,
    workdir: work2,
  })) as string;
  for (;;) {
    const c = (await daemon.transport.call('GET', `/v1/changes/${id2}`)) as ChangeInfo;
    assert.equal(c.ready, false, 'the build must still run when it is killed');
    if (c.tasks.some((t) => t.status === 'Doing' && ['build-volumes', 'write-bmap', 'finish'].includes(t.summary))) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  await daemon.crash();
  await start();
  const interrupted = (await daemon.transport.call('GET', `/v1/changes/${id2}`)) as ChangeInfo;
  assert.equal(interrupted.status, 'Error');
  assert.equal(existsSync(join(out2, 'pi.img')), false, 'no pi.img that looks complete');
  const res2 = await cliBuild('my-pi3', out2, ['-c', 'beta', '-w', work2, '--resume']);
  assert.equal(res2.code, 0, res2.stderr);
  assert.equal(sha256(join(out2, 'pi.img')), sha256(join(reference, 'pi.img')));

  // A finished build leaves nothing to resume: its work dir is the caller's now.
  const again = await cliBuild('my-pi3', out, ['-w', work, '--resume']);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /cannot resume the build in .*resume-work: no unfinished build of yours ran there/);
  assert.equal(statSync(join(work, `coreforge-build-${id}`)).uid, process.getuid!(), 'the work dir is handed to the caller once the build is done');
});

test('bad inputs through the CLI fail with the daemon\'s message', async () => {
  const unsigned = join(tmp.dir, 'unsigned.model');
  writeFileSync(unsigned, JSON.stringify(modelJSON('my-pi3', 'acme', modelTime)));
  const res = await runCli(['build', '-O', join(tmp.dir, 'bad-out'), ...snapArgs('my-pi3'), unsigned], { socketPath: socketPath(), timeoutMs: 60_000 });
  assert.equal(res.code, 1);
  assert.match(res.stderr, /cannot use model unsigned\.model: it is an unsigned model \(JSON\); sign it first/);
  assert.equal(existsSync(join(tmp.dir, 'bad-out', 'pi.img')), false);
  const relative = await daemon.transport.call('POST', '/v1/builds', { model: 'x', 'output-dir': 'out' }).catch((e: Error) => e.message);
  assert.equal(relative, 'cannot start build: output directory "out" must be an absolute path (the daemon does not share the client\'s working directory)');
  for (const [name, why] of [['../pi3.img', 'is not a plain file name'], ['.pi3.img', 'is not a plain file name'], ['build.json', 'is the name of another output of the build'], ['pi.img.bmap', 'is the name of another output of the build']]) {
    const refused = await daemon.transport.call('POST', '/v1/builds', { model: 'x', 'output-dir': tmp.dir, 'image-name': name }).catch((e: Error) => e.message);
    assert.equal(refused, `cannot start build: image name "${name}" ${why}; use a plain file name such as pi3.img (-O DIR chooses the directory)`);
  }
  const missing = await daemon.transport.call('GET', '/v1/builds/999').catch((e: Error & { kind?: string }) => `${e.kind}: ${e.message}`);
  assert.equal(missing, 'build-not-found: cannot find build "999": no build has that id; list builds with "coreforge builds"');
});

test('image sizes are read as SIZE or VOLUME:SIZE lists', () => {
  assert.equal(parseImageSize('4G'), 4 * 1024 ** 3);
  assert.equal(parseImageSize('1048576'), 1048576);
  assert.deepEqual(parseImageSize('pc:4G,other:512M'), { pc: 4 * 1024 ** 3, other: 512 * 1024 ** 2 });
  assert.throws(() => parseImageSize('pc:lots'), {
    message: 'cannot use image size "pc:lots": cannot parse size "lots": no numerical prefix; use SIZE or VOLUME:SIZE,... with sizes like 4G, 512M or bytes',
  });
});

test('gadget validate prints the computed layout of a gadget snap', async () => {
  const res = await runCli(['gadget', 'validate', built['pi-18']!.path, '--model', join(tmp.dir, 'my-pi3.model'), '--json'], { socketPath: socketPath() });
  assert.equal(res.code, 0, res.stderr);
  const layout = JSON.parse(res.stdout) as GadgetLayoutResult;
  assert.equal(layout.rules, 'uc16');
  assert.equal(layout['content-checked'], true);
  assert.deepEqual(layout.volumes.map((v) => [v.name, v.schema, v.bootloader]), [['pi', 'mbr', 'u-boot']]);
  assert.deepEqual(layout.volumes[0]!.structures.map((s) => [s.label, s.role, s.type, s.filesystem, s.offset, s.size]), [
    ['system-boot', 'system-boot', '0C', 'vfat', 1048576, 268435456],
    ['writable', 'system-data', '83,0FC63DAF-8483-4772-8E79-3D69D8477DE4', 'ext4', 269484032, 0],
  ]);
  const text = await runCli(['gadget', 'validate', built['pc-20']!.path], { socketPath: socketPath() });
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /volume pc: schema gpt, bootloader grub/);
  assert.match(text.stdout, /ubuntu-seed +system-seed +EF,C12A7328-F81F-11D2-BA4B-00A0C93EC93B +vfat +2097152 +1258291200/);
  const yamlFile = join(tmp.dir, 'gadget.yaml');
  writeFileSync(yamlFile, PI_18_GADGET_YAML);
  const bare = JSON.parse((await runCli(['gadget', 'validate', yamlFile, '--json'], { socketPath: socketPath() })).stdout) as GadgetLayoutResult;
  assert.equal(bare.rules, 'generic');
  assert.equal(bare['content-checked'], false);
  assert.deepEqual(bare.volumes[0]!.structures.map((s) => s.offset), [1048576, 269484032]);
  const bad = await runCli(['gadget', 'validate', built['bad-gadget-no-gadget-yaml']!.path], { socketPath: socketPath() });
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /cannot read meta\/gadget\.yaml of gadget .*bad-gadget-no-gadget-yaml\.snap: the file is missing/);
});

test('gadget validate accepts partial gadgets and emmc volumes, with the layout it can compute and why no image is made', async () => {
  // snapd gadget_test.go TestGadgetPartialSize: sizes left to an installer
  const partial = join(tmp.dir, 'partial-gadget.yaml');
  writeFileSync(
    partial,
    'volumes:\n  frobinator-image:\n    partial: [size]\n    bootloader: u-boot\n    schema: gpt\n    structure:\n' +
      '      - {name: ubuntu-seed, filesystem: ext4, size: 500M, type: "83,0FC63DAF-8483-4772-8E79-3D69D8477DE4", role: system-seed}\n' +
      '      - {name: ubuntu-save, min-size: 1M, filesystem: ext4, type: "83,0FC63DAF-8483-4772-8E79-3D69D8477DE4", role: system-save}\n' +
      '      - {name: ubuntu-data, filesystem: ext4, type: "83,0FC63DAF-8483-4772-8E79-3D69D8477DE4", role: system-data}\n',
  );
  const res = await runCli(['gadget', 'validate', partial, '--json'], { socketPath: socketPath() });
  assert.equal(res.code, 0, res.stderr);
  const layout = JSON.parse(res.stdout) as GadgetLayoutResult;
  assert.deepEqual(layout.volumes.map((v) => [v.name, v.schema, v.partial, v.size]), [['frobinator-image', 'gpt', ['size'], 0]]);
  assert.deepEqual(layout.volumes[0]!.structures.map((s) => [s.name, s.offset, s.size, s['in-image']]), [
    ['ubuntu-seed', 1048576, 524288000, false],
    ['ubuntu-save', 525336576, 0, false],
    ['ubuntu-data', null, 0, false],
  ]);
  assert.deepEqual(layout.warnings, ['volume "frobinator-image" leaves size to an installer (partial): it is valid, but no image can be built from it']);
  const text = await runCli(['gadget', 'validate', partial], { socketPath: socketPath() });
  assert.match(text.stdout, /volume frobinator-image: schema gpt, partial: size, bootloader u-boot, no image/);
  assert.match(text.stdout, /ubuntu-data +system-data +83,0FC63DAF-8483-4772-8E79-3D69D8477DE4 +ext4 +at install +-/);
  // a partial value snapd does not know
  writeFileSync(partial, 'volumes:\n  pc:\n    partial: [size, bootloader]\n    bootloader: grub\n');
  const badPartial = await runCli(['gadget', 'validate', partial], { socketPath: socketPath() });
  assert.equal(badPartial.code, 1);
  assert.match(badPartial.stderr, /"bootloader" is not a valid partial value \(volume "pc"\); use size, filesystem, schema, structure/);

  // snapd gadget_emmc_test.go mockEMMCGadgetYaml, over the API; `offset: 12345` is not sector-aligned, which
  // snapd accepts at validation: a warning names what a build would refuse
  const emmc =
    'volumes:\n  volumename:\n    schema: mbr\n    bootloader: u-boot\n    structure:\n' +
    '      - {filesystem-label: system-boot, offset: 12345, size: 88888, type: 0C, filesystem: vfat}\n' +
    '  my-emmc:\n    schema: emmc\n    structure:\n      - {name: boot0, content: [{image: boot0filename}]}\n      - {name: boot1, content: [{image: boot1filename}]}\n';
  const api = (await daemon.transport.call('POST', '/v1/gadget/validate', { yaml: emmc })) as GadgetLayoutResult;
  assert.deepEqual(api.volumes.map((v) => [v.name, v.schema, v.bootloader, v.size > 0]), [['volumename', 'mbr', 'u-boot', true], ['my-emmc', 'emmc', '', false]]);
  assert.deepEqual(api.volumes[1]!.structures.map((s) => [s.name, s.offset, s.size]), [['boot0', 0, 0], ['boot1', 0, 0]]);
  assert.deepEqual(api.volumes[0]!.structures[0]!.offset, 12345);
  assert.ok(api.warnings.includes('volume "my-emmc" describes eMMC hardware partitions (schema emmc): its images are written on the device, a build makes no image file of it'), api.warnings.join('\n'));
  assert.ok(api.warnings.some((w) => /offset 12345 is not a multiple of disk sector size 512/.test(w)), api.warnings.join('\n'));
  // snapd's emmc rules over the API: a size is the hardware's
  await assert.rejects(
    daemon.transport.call('POST', '/v1/gadget/validate', { yaml: emmc.replace('{name: boot1,', '{name: boot1, size: 4M,') }),
    (err: Error) => /invalid volume "my-emmc": invalid structure #1 \("boot1"\): "size" not allowed for emmc volume structures/.test(err.message),
  );
});
