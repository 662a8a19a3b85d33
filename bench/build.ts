/**
 * bench/build: coreforge's build of the UC20 pc dangerous fixture model with
 * about 256 MiB of snap content, against the floor, in one run (root needed:
 * drop_caches).
 * Run: node --import tsx bench/build.ts [--runs 3] [--pad-mib 256] [--big-pad-mib 1024]
 *
 * - the floor: what any tool must do for the same image, with the same tools
 *   and arguments: copy the snap bytes into place (`cp -rL` of the seed tree,
 *   the snaps being what it holds), create the sparse image file, and
 *   `mkfs.vfat` + `mcopy` (or `mkfs.ext4 -d`) of exactly the partitions the
 *   build populates (taken from a warm-up build's layout and trees). Shown
 *   also with an fsync of the image, which the build does before it records
 *   the step as done;
 * - coreforge through the library call (a fresh process per run, so its
 *   maxRSS is its own; /usr/bin/time -v too) and through a real coreforged
 *   built into dist/ and run by plain node, as installed
 *   (POST /v1/builds until the change is ready and GET /v1/builds/{id}; then
 *   the time until the daemon has the image's SHA-256, which it computes
 *   after the build, and that it is the real one);
 * - image apparent size, disk usage (st_blocks) against the bmap's mapped
 *   bytes, and peak memory, also for a build with `--big-pad-mib` of snap
 *   content, to show memory does not grow with the snaps.
 * Page caches are dropped before every timed run; median of --runs, rounds interleaved
 * (floor, daemon, library: the daemon runs right after the floor it is compared with),
 * and the median of the per-round ratios beside the ratio of the medians.
 * Targets (issue #5): <= 1.3x the floor; disk usage <= 5% above the mapped data; peak memory < 200 MiB.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { encodeAssertion } from '../daemon/asserts/index.js';
import type { BuildInfo } from '../daemon/api/types.js';
import { runTool } from '../daemon/image/pipeline/exec.js';
import type { BuildParams } from '../daemon/image/pipeline/params.js';
import { runBuild } from '../daemon/image/pipeline/runner.js';
import type { BuildState } from '../daemon/image/pipeline/state.js';
import { loadGadget } from '../daemon/image/gadget/index.js';
import { FIXTURE_MODELS } from '../test/fixtures/models.js';
import { buildAllFixtures } from '../test/fixtures/snaps.js';
import { testTrust } from '../test/daemon/image/pipeline/helpers.js';
import { builtDaemonEntry, repoRoot, startDaemon, waitChangeReady } from '../test/helpers/daemon.js';
import { makeTempDir } from '../test/helpers/tmp.js';

const MiB = 1 << 20;
const self = join(repoRoot, 'bench/build.ts');
const modelName = 'coreforge-pc-20-dangerous';
const ids = FIXTURE_MODELS[modelName]!;

function dropCaches(): void {
  execFileSync('sync');
  execFileSync('sh', ['-c', 'echo 3 > /proc/sys/vm/drop_caches']);
}

interface ChildSpec {
  snaps: string[];
  outputDir: string;
  workDir: string;
  drop: boolean;
}

interface ChildResult {
  seconds: number;
  maxRssKiB: number;
  timings: BuildState['timings'];
}

/** Child mode: one library build in a fresh process (caches dropped just before it), so its maxRSS is its own. */
async function child(text: string): Promise<void> {
  const spec = JSON.parse(text) as ChildSpec;
  const trust = await testTrust();
  const params: BuildParams = {
    model: trust.signModel(modelName),
    modelSource: `${modelName}.model`,
    snaps: spec.snaps,
    channel: '',
    outputDir: spec.outputDir,
    workDir: spec.workDir,
    sectorSize: 512,
    validation: 'ignore',
    disableConsoleConf: false,
  };
  if (spec.drop) dropCaches();
  const started = performance.now();
  const state = await runBuild(params, { exec: runTool, lookups: trust.lookups, progress: () => {}, log: () => {} });
  const seconds = (performance.now() - started) / 1000;
  const result: ChildResult = { seconds, maxRssKiB: process.resourceUsage().maxRSS, timings: state.timings };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

function run(cmd: string, args: string[], env: Record<string, string> = {}): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C', ...env } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('exit', (code) => (code === 0 ? resolve({ stdout, stderr }) : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${stderr}`))));
  });
}

const hasTimeV = (() => {
  try {
    execFileSync('/usr/bin/time', ['-v', 'true'], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
})();

/** One library build in a child process (under /usr/bin/time -v when there is one). */
async function libraryBuild(spec: ChildSpec): Promise<ChildResult & { timeVKiB?: number }> {
  const args = ['--import', 'tsx', self, '--child', JSON.stringify(spec)];
  const { stdout, stderr } = hasTimeV ? await run('/usr/bin/time', ['-v', process.execPath, ...args]) : await run(process.execPath, args);
  const result = JSON.parse(stdout.trim().split('\n').pop()!) as ChildResult;
  const timeV = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr)?.[1];
  return { ...result, ...(timeV ? { timeVKiB: Number(timeV) } : {}) };
}

interface ImageStats {
  apparent: number;
  disk: number;
  mapped: number;
}

async function imageStats(outputDir: string): Promise<ImageStats> {
  const image = join(outputDir, 'pc.img');
  const st = await stat(image);
  const bmap = await readFile(`${image}.bmap`, 'utf8');
  const blockSize = Number(/<BlockSize>\s*(\d+)\s*<\/BlockSize>/.exec(bmap)![1]);
  const mappedBlocks = Number(/<MappedBlocksCount>\s*(\d+)\s*<\/MappedBlocksCount>/.exec(bmap)![1]);
  return { apparent: st.size, disk: st.blocks * 512, mapped: mappedBlocks * blockSize };
}

/** What the floor reproduces: the image size and each populated filesystem with its tool arguments and trees. */
interface FloorPlan {
  imageSize: number;
  filesystems: { kind: 'vfat' | 'ext4'; offset: number; size: number; label: string; trees: string[] }[];
}

/** Reads a finished build's work dir (layout, gadget, trees) into the floor's plan. */
async function floorPlan(workDir: string): Promise<FloorPlan> {
  const state = JSON.parse(await readFile(join(workDir, 'build-state.json'), 'utf8')) as BuildState;
  const gadget = loadGadget(await readFile(join(workDir, 'unpack/gadget/meta/gadget.yaml'), 'utf8'), { model: { uc20: true, classic: false } });
  const vol = state.volumes![0]!;
  const gvol = gadget.volumes.find((v) => v.name === vol.name)!;
  const filesystems: FloorPlan['filesystems'] = [];
  for (const p of vol.partitions) {
    const s = gvol.structures.find((x) => x.yamlIndex === p.yamlIndex)!;
    if (s.filesystem === '' || s.filesystem === 'none') continue;
    const staged = join(workDir, 'stage', vol.name, String(s.yamlIndex));
    const trees = [...(s.role === 'system-seed' ? [join(workDir, 'ubuntu-seed')] : []), staged];
    filesystems.push({ kind: s.filesystem === 'ext4' ? 'ext4' : 'vfat', offset: p.offset, size: p.size, label: s.label, trees });
  }
  return { imageSize: vol.size, filesystems };
}

async function treeHasEntries(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort();
  } catch {
    return [];
  }
}

/** The floor, once: returns seconds without and with an fsync of the image. */
async function floorOnce(plan: FloorPlan, dir: string): Promise<{ seconds: number; synced: number }> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  dropCaches();
  const env = { MTOOLS_SKIP_CHECK: '1', SOURCE_DATE_EPOCH: '1767225600', TZ: 'UTC' };
  const started = performance.now();
  const image = join(dir, 'pc.img');
  await writeFile(image, '');
  await run('truncate', ['-s', String(plan.imageSize), image]);
  for (const [i, fs] of plan.filesystems.entries()) {
    // Copy the snap bytes (and the few other files) into place: the trees with their links followed.
    const trees: string[] = [];
    for (const [j, t] of fs.trees.entries()) {
      if ((await treeHasEntries(t)).length === 0) continue;
      const copy = join(dir, `tree-${i}-${j}`);
      await run('cp', ['-rL', t, copy]);
      trees.push(copy);
    }
    if (fs.kind === 'vfat') {
      await run('mkfs.vfat', ['--invariant', '-F', '32', '-S', '512', '-s', '1', '-i', '12345678', `--offset=${fs.offset / 512}`, ...(fs.label ? ['-n', fs.label] : []), image, String(Math.floor(fs.size / 1024))], env);
      for (const t of trees) {
        await run('mcopy', ['-i', `${image}@@${fs.offset}`, '-s', '-o', '-Q', ...(await treeHasEntries(t)).map((e) => join(t, e)), '::/'], env);
      }
    } else {
      const args = ['-F', '-q', '-T', 'default', '-O', '^metadata_csum,^64bit,uninit_bg', '-E', `offset=${fs.offset},root_owner=0:0,nodiscard`, ...(fs.label ? ['-L', fs.label] : [])];
      await run('fakeroot', ['mkfs.ext4', ...args, ...(trees[0] ? ['-d', trees[0]] : []), image, `${Math.floor(fs.size / 1024)}k`], { E2FSPROGS_FAKE_TIME: '1767225600' });
    }
  }
  const seconds = (performance.now() - started) / 1000;
  await run('sync', [image]);
  const synced = (performance.now() - started) / 1000;
  await rm(dir, { recursive: true, force: true });
  return { seconds, synced };
}

/** Seconds this CPU takes to hash `bytes` from memory: the least any digest of that many bytes costs. */
function hashSeconds(algorithm: string, bytes: number): number {
  const buf = Buffer.alloc(4 * MiB);
  const started = performance.now();
  const h = createHash(algorithm);
  for (let n = bytes; n > 0; n -= buf.length) h.update(n >= buf.length ? buf : buf.subarray(0, n));
  h.digest();
  return (performance.now() - started) / 1000;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const mib = (n: number) => (n / MiB).toFixed(1);

async function dirBytes(dir: string): Promise<number> {
  let n = 0;
  for (const e of await readdir(dir)) {
    const st = await lstat(join(dir, e));
    n += st.isFile() ? st.size : 0;
  }
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { runs: { type: 'string', default: '3' }, 'pad-mib': { type: 'string', default: '256' }, 'big-pad-mib': { type: 'string', default: '1024' }, child: { type: 'string' } },
  });
  if (values.child) return child(values.child);
  if (process.getuid?.() !== 0) throw new Error('bench/build needs root (drop_caches)');
  const runs = Number(values.runs);
  const padMiB = Number(values['pad-mib']);
  const bigPadMiB = Number(values['big-pad-mib']);
  const tmp = await makeTempDir('coreforge-bench-build-');
  let daemon: Awaited<ReturnType<typeof startDaemon>> | undefined;
  try {
    process.stderr.write(`preparing fixtures (pc-kernel padded with ${padMiB} MiB; cached)...\n`);
    const built = await buildAllFixtures(join(tmp.dir, 'snaps'), { ids: [...ids], pad: { 'pc-kernel-20': padMiB * MiB } });
    const snaps = ids.map((id) => built[id]!.path);
    const snapBytes = await dirBytes(join(tmp.dir, 'snaps'));

    process.stderr.write('warm-up build (layout and trees for the floor)...\n');
    const warm = { snaps, outputDir: join(tmp.dir, 'warm-out'), workDir: join(tmp.dir, 'warm-work'), drop: false };
    await libraryBuild(warm);
    const plan = await floorPlan(warm.workDir);
    await rm(warm.outputDir, { recursive: true, force: true });

    const trust = await testTrust();
    // The daemon as installed (dist/, plain node): under tsx it would carry the TypeScript loader too.
    execFileSync('npm', ['run', '--silent', 'build'], { cwd: repoRoot, stdio: 'inherit' });
    daemon = await startDaemon({ socketPath: join(tmp.dir, 'cf.sock'), stateDir: join(tmp.dir, 'state'), entry: builtDaemonEntry });
    const d = daemon;
    await d.transport.call('POST', '/v1/assertions', { assertions: `${encodeAssertion(trust.root)}\n${encodeAssertion(trust.rootAccount)}`, trusted: true });
    await d.transport.call('POST', '/v1/assertions', { assertions: `${encodeAssertion(trust.brandAccount)}\n${encodeAssertion(trust.brandKey)}` });
    const model = trust.signModel(modelName);
    const daemonBuild = async (outputDir: string): Promise<{ seconds: number; digested: number; info: BuildInfo }> => {
      dropCaches();
      const started = performance.now();
      const id = await d.transport.call<string>('POST', '/v1/builds', { model, 'model-source': `${modelName}.model`, snaps, 'output-dir': outputDir });
      const change = await waitChangeReady(d.transport, id, 10);
      if (change.status !== 'Done') throw new Error(`daemon build failed: ${change.err}`);
      await d.transport.call<BuildInfo>('GET', `/v1/builds/${id}`);
      const seconds = (performance.now() - started) / 1000;
      // The image's SHA-256 follows the build, on the daemon's worker thread.
      let info: BuildInfo;
      for (;;) {
        info = await d.transport.call<BuildInfo>('GET', `/v1/builds/${id}`);
        if (!info['digests-pending']) break;
        await new Promise((r) => setTimeout(r, 10));
      }
      return { seconds, digested: (performance.now() - started) / 1000, info };
    };

    const floor: number[] = [];
    const floorSynced: number[] = [];
    const lib: (ChildResult & { timeVKiB?: number })[] = [];
    const dmn: number[] = [];
    const dmnDigested: number[] = [];
    const dmnTimings: BuildState['timings'][] = [];
    let stats: ImageStats | undefined;
    let digestOk = true;
    for (let round = 0; round < runs; round++) {
      const f = await floorOnce(plan, join(tmp.dir, 'floor'));
      floor.push(f.seconds);
      floorSynced.push(f.synced);
      process.stderr.write(`round ${round + 1}/${runs}  floor: ${f.seconds.toFixed(2)} s (${f.synced.toFixed(2)} s with fsync)\n`);

      const dout = join(tmp.dir, 'daemon-out');
      const b = await daemonBuild(dout);
      dmn.push(b.seconds);
      dmnDigested.push(b.digested);
      dmnTimings.push((JSON.parse(await readFile(join(dout, 'build.json'), 'utf8')) as { timings: BuildState['timings'] }).timings);
      const img = b.info.artifacts.find((a) => a.name === 'pc.img');
      if (round === 0) {
        const real = /= ([0-9a-f]{64})$/.exec(execFileSync('openssl', ['dgst', '-sha256', join(dout, 'pc.img')], { encoding: 'utf8' }).trim())?.[1];
        digestOk = img?.sha256 === real;
      }
      await rm(dout, { recursive: true, force: true });
      process.stderr.write(`round ${round + 1}/${runs}  coreforge daemon: ${b.seconds.toFixed(2)} s (image SHA-256 known at ${b.digested.toFixed(2)} s)\n`);

      const out = join(tmp.dir, 'lib-out');
      const r = await libraryBuild({ snaps, outputDir: out, workDir: join(tmp.dir, 'lib-work'), drop: true });
      lib.push(r);
      stats = await imageStats(out);
      await rm(out, { recursive: true, force: true });
      await rm(join(tmp.dir, 'lib-work'), { recursive: true, force: true });
      process.stderr.write(`round ${round + 1}/${runs}  coreforge library: ${r.seconds.toFixed(2)} s\n`);
    }
    const daemonHwmKiB = Number(/VmHWM:\s+(\d+) kB/.exec(await readFile(`/proc/${d.proc.pid}/status`, 'utf8'))?.[1] ?? 0);

    let big: (ChildResult & { timeVKiB?: number }) | undefined;
    if (bigPadMiB > 0) {
      process.stderr.write(`memory check: pc-kernel padded with ${bigPadMiB} MiB (cached)...\n`);
      const bigBuilt = await buildAllFixtures(join(tmp.dir, 'big-snaps'), { ids: [...ids], pad: { 'pc-kernel-20': bigPadMiB * MiB } });
      await rm(join(tmp.dir, 'snaps'), { recursive: true, force: true });
      big = await libraryBuild({ snaps: ids.map((id) => bigBuilt[id]!.path), outputDir: join(tmp.dir, 'big-out'), workDir: join(tmp.dir, 'big-work'), drop: true });
      await rm(join(tmp.dir, 'big-out'), { recursive: true, force: true });
    }

    const fl = median(floor);
    const flSync = median(floorSynced);
    const libS = median(lib.map((r) => r.seconds));
    const dmnS = median(dmn);
    const libRss = Math.max(...lib.map((r) => r.maxRssKiB)) / 1024;
    const libTimeV = lib.every((r) => r.timeVKiB !== undefined) ? Math.max(...lib.map((r) => r.timeVKiB!)) / 1024 : undefined;
    const rows: string[][] = [
      ['floor: cp -rL + mkfs.vfat + mcopy', fl.toFixed(2), floor.map((x) => x.toFixed(2)).join(' '), '1.00', ''],
      ['floor + fsync of the image', flSync.toFixed(2), floorSynced.map((x) => x.toFixed(2)).join(' '), (flSync / fl).toFixed(2), ''],
      ['coreforge library', libS.toFixed(2), lib.map((r) => r.seconds.toFixed(2)).join(' '), (libS / fl).toFixed(2), `${libRss.toFixed(0)} MiB${libTimeV ? ` (time -v ${libTimeV.toFixed(0)})` : ''}`],
      ['coreforge daemon (POST..GET)', dmnS.toFixed(2), dmn.map((x) => x.toFixed(2)).join(' '), (dmnS / fl).toFixed(2), `${(daemonHwmKiB / 1024).toFixed(0)} MiB (VmHWM)`],
      ['  ...until the image SHA-256 is known', median(dmnDigested).toFixed(2), dmnDigested.map((x) => x.toFixed(2)).join(' '), (median(dmnDigested) / fl).toFixed(2), ''],
    ];
    const head = ['case', 'median s', 'runs', 'x floor', 'peak memory'];
    const widths = head.map((_, i) => Math.max(...[head, ...rows].map((r) => r[i]!.length)));
    const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ');
    const mid = lib.map((r) => r.seconds).indexOf(libS);
    const timings = Object.entries(lib[mid]!.timings).map(([k, v]) => `${k} ${v}`).join(', ');
    const dmnMid = dmnTimings[dmn.indexOf(dmnS)]!;
    const dmnSteps = Object.values(dmnMid).reduce((a, b) => a + b, 0);
    const dmnTimingText = `${Object.entries(dmnMid).map(([k, v]) => `${k} ${v}`).join(', ')} (steps ${dmnSteps} ms of ${(dmnS * 1000).toFixed(0)} ms)`;
    const s = stats!;
    // The digests a build must compute (snapd's SHA3-384 of each snap, bmap 2.0's SHA-256 of each mapped
    // range, the image's SHA-256 that GET /v1/builds/{id} reports), timed from memory on this CPU.
    const sha3 = hashSeconds('sha3-384', snapBytes);
    const bmapHash = hashSeconds('sha256', s.mapped);
    const imageHash = hashSeconds('sha256', s.apparent);
    // Each round runs the floor and the builds back to back: the ratio within a round cancels most of a
    // loaded machine's slow and fast moments, which the ratio of the medians does not.
    const roundRatio = (xs: number[]) => median(xs.map((x, i) => x / floorSynced[i]!));
    const libRound = roundRatio(lib.map((r) => r.seconds));
    const dmnRound = roundRatio(dmn);
    const checks: [string, string, string, boolean][] = [
      ['library / floor', (libS / fl).toFixed(2), '(info)', true],
      ['daemon / floor', (dmnS / fl).toFixed(2), '(info)', true],
      ['library / (floor + fsync), ratio of medians', (libS / flSync).toFixed(2), '<= 1.3', libS / flSync <= 1.3],
      ['library / (floor + fsync), median round ratio', libRound.toFixed(2), '<= 1.3', libRound <= 1.3],
      ['daemon / (floor + fsync), ratio of medians', (dmnS / flSync).toFixed(2), '<= 1.3', dmnS / flSync <= 1.3],
      ['daemon / (floor + fsync), median round ratio', dmnRound.toFixed(2), '<= 1.3', dmnRound <= 1.3],
      ['disk usage / mapped data', (s.disk / s.mapped).toFixed(3), '<= 1.05', s.disk / s.mapped <= 1.05],
      [`peak RSS library, ${padMiB} MiB pad (MiB)`, libRss.toFixed(0), '< 200', libRss < 200],
      ...(big ? [[`peak RSS library, ${bigPadMiB} MiB pad (MiB)`, (big.maxRssKiB / 1024).toFixed(0), '< 200', big.maxRssKiB / 1024 < 200] as [string, string, string, boolean]] : []),
      ['peak RSS daemon (MiB)', (daemonHwmKiB / 1024).toFixed(0), '< 200', daemonHwmKiB / 1024 < 200],
      ['image sha256 (after the build) = openssl dgst', digestOk ? 'yes' : 'no', 'yes', digestOk],
    ];
    process.stdout.write(
      `\nbench/build: UC20 pc dangerous model, ${mib(snapBytes)} MiB of snaps (pc-kernel padded with ${padMiB} MiB); median of ${runs}, caches dropped before each run\n\n` +
        [line(head), ...rows.map(line)].join('\n') +
        `\n\nimage pc.img: apparent ${mib(s.apparent)} MiB, disk usage ${mib(s.disk)} MiB, bmap mapped ${mib(s.mapped)} MiB` +
        `\nlibrary build steps (ms, median run): ${timings}` +
        `\ndaemon build steps (ms, median run): ${dmnTimingText}` +
        `\ndigests alone, from memory on this CPU: SHA3-384 of the snaps ${sha3.toFixed(2)} s, SHA-256 of the mapped data ${bmapHash.toFixed(2)} s, ` +
        `SHA-256 of the whole ${mib(s.apparent)} MiB image ${imageHash.toFixed(2)} s (= ${(imageHash / fl).toFixed(2)}x the floor by itself)` +
        `\nper-round ratios to floor + fsync: library ${lib.map((r, i) => (r.seconds / floorSynced[i]!).toFixed(2)).join(' ')}, daemon ${dmn.map((x, i) => (x / floorSynced[i]!).toFixed(2)).join(' ')}` +
        `\nnoise: floor + fsync ranged ${Math.min(...floorSynced).toFixed(2)}-${Math.max(...floorSynced).toFixed(2)} s over the rounds (${((Math.max(...floorSynced) - Math.min(...floorSynced)) / flSync * 100).toFixed(0)}% of its median); load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}` +
        (big ? `\n${bigPadMiB} MiB pad: library build ${big.seconds.toFixed(2)} s, peak RSS ${(big.maxRssKiB / 1024).toFixed(0)} MiB${big.timeVKiB ? ` (time -v ${(big.timeVKiB / 1024).toFixed(0)})` : ''}` : '') +
        '\n\n' +
        checks.map(([name, v, target, ok]) => `${ok ? 'ok  ' : 'MISS'}  ${name.padEnd(47)} ${v.padStart(7)}  (target ${target})`).join('\n') +
        '\n',
    );
  } finally {
    await daemon?.stop();
    await rm(tmp.dir, { recursive: true, force: true });
  }
}

await main();
process.exit();
