/**
 * bench/flash: coreforge's flashing against bmaptool and dd, on loop devices,
 * in one go (root needed: losetup, drop_caches).
 * Run: node --import tsx bench/flash.ts [--runs 3]
 *
 * - a 1 GiB sparse image with ~160 MiB of data and its bmap (bmaptool create):
 *   coreforge through the library call and through the daemon, with and without
 *   verify, `bmaptool copy`, `dd bs=4M conv=fsync`;
 * - the same image onto 4 loop devices in one flash (one read of the image, with
 *   verify), against one target and against 4 `bmaptool copy` one after another;
 *   and what the machine allows: dd writing the mapped bytes to 1 and to 4 loop
 *   devices at once and reading them back (O_DIRECT), without and with sha256sum;
 * - a dense 512 MiB image: coreforge (library, no verify and verify) against dd;
 * - peak memory flashing a 4 GiB image (no bmap: every byte streams through) with verify.
 * Targets (issue #6): no verify <= 1.1x bmaptool's time; verify <= 2x bmaptool's;
 * dense throughput >= 0.9x dd's; peak memory < 150 MiB; (issue #16) 4 targets
 * <= 1.5x one target, or within 1.2x of the machine's own 4-to-1 ratio (dd | sha256sum); and,
 * in time, the 4-target flash against dd writing, reading back and hashing the same bytes on 4 devices at once.
 * Page caches are dropped before every run, and each target's backing file is
 * emptied, so every tool starts from the same cold state. Median of --runs.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { open, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { FlashResult } from '../daemon/api/types.js';
import { flashImage } from '../daemon/flash/index.js';
import { realDaemonEntry, repoRoot, startDaemon, waitChangeReady } from '../test/helpers/daemon.js';
import { makeTempDir } from '../test/helpers/tmp.js';

const MiB = 1 << 20;
const GiB = 1024 * MiB;
const self = join(repoRoot, 'bench/flash.ts');

/** Child mode: one library flash in a fresh process, so its maxRSS is its own. */
async function child(spec: string): Promise<void> {
  const { image, targets, size, verify } = JSON.parse(spec) as { image: string; targets: string[]; size: number; verify: boolean };
  const started = performance.now();
  // force: the bench images are random bytes, no partition table at their start
  const result = await flashImage({ image, targets: targets.map((path) => ({ path, size })), verify, force: true });
  const seconds = (performance.now() - started) / 1000;
  for (const t of result.targets) {
    if (!t.ok || (verify && !t.verified)) throw t.error ?? new Error(`flash of ${t.path} failed`);
  }
  process.stdout.write(JSON.stringify({ seconds, maxRssKiB: process.resourceUsage().maxRSS, mapped: result.mappedBytes }) + '\n');
}

function dropCaches(): void {
  execFileSync('sync');
  execFileSync('sh', ['-c', 'echo 3 > /proc/sys/vm/drop_caches']);
}

interface Loop {
  path: string;
  backing: string;
  size: number;
}

async function attach(dir: string, name: string, size: number): Promise<Loop> {
  const backing = join(dir, name);
  await writeFile(backing, '');
  await truncate(backing, size);
  const path = execFileSync('losetup', ['-f', '--show', backing], { encoding: 'utf8' }).trim();
  return { path, backing, size };
}

/** Empties targets (each backing file becomes one hole again) and drops caches: the same cold start for every tool. */
async function reset(loops: Loop[]): Promise<void> {
  for (const loop of loops) {
    await truncate(loop.backing, 0);
    await truncate(loop.backing, loop.size);
    execFileSync('blockdev', ['--flushbufs', loop.path]);
  }
  dropCaches();
}

/** Copies the image's mapped ranges into one file: the bytes a bmap flash writes, for dd to write as fast as it can. */
async function extractMapped(image: string, ranges: [number, number][], out: string): Promise<void> {
  const src = await open(image, 'r');
  const dst = await open(out, 'w');
  try {
    let at = 0;
    for (const [start, end] of ranges) {
      const buf = Buffer.alloc(end - start);
      await src.read(buf, 0, buf.length, start);
      await dst.write(buf, 0, buf.length, at);
      at += buf.length;
    }
  } finally {
    await src.close();
    await dst.close();
  }
}

/**
 * The machine's own limit for writing one image to drives and reading it
 * back: dd writes the mapped bytes (O_DIRECT, fsync at the end) to each loop
 * device, all at once, then reads them back with O_DIRECT, into sha256sum
 * when `hash` (a verify must hash what it reads: the cores' share of the limit).
 */
function ddWriteReadBack(mapped: string, mappedBytes: number, loops: Loop[], hash: boolean): Promise<unknown> {
  const blocks = Math.ceil(mappedBytes / (4 * MiB));
  const readBack = `dd if="$2" bs=4M iflag=direct count=${blocks} status=none ${hash ? '| sha256sum >/dev/null' : 'of=/dev/null'}`;
  return Promise.all(loops.map((l) => run('sh', ['-c', `dd if="$1" of="$2" bs=4M oflag=direct conv=fsync status=none && ${readBack}`, 'dd', mapped, l.path])));
}

/** Writes an image: `size` bytes, random data in `ranges` [start, end), holes elsewhere. */
async function makeImage(path: string, size: number, ranges: [number, number][]): Promise<void> {
  const handle = await open(path, 'w');
  try {
    await handle.truncate(size);
    for (const [start, end] of ranges) {
      for (let at = start; at < end; at += 16 * MiB) {
        const n = Math.min(16 * MiB, end - at);
        await handle.write(randomBytes(n), 0, n, at);
      }
    }
  } finally {
    await handle.close();
  }
}

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${err}`))));
  });
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await fn();
  return (performance.now() - started) / 1000;
}

/** One library flash of `image` onto every loop in `loops` (one request, one read of the image). */
async function libraryFlash(image: string, loops: Loop | Loop[], verify: boolean): Promise<{ seconds: number; maxRssKiB: number }> {
  const list = Array.isArray(loops) ? loops : [loops];
  const out = await run(process.execPath, ['--import', 'tsx', self, '--child', JSON.stringify({ image, targets: list.map((l) => l.path), size: list[0]!.size, verify })]);
  return JSON.parse(out.trim().split('\n').pop()!) as { seconds: number; maxRssKiB: number };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' }, child: { type: 'string' } } });
  if (values.child) return child(values.child);
  if (process.getuid?.() !== 0) throw new Error('bench/flash needs root (losetup, drop_caches)');
  const runs = Number(values.runs);
  const tmp = await makeTempDir('coreforge-bench-flash-');
  const loops: Loop[] = [];
  let daemon: Awaited<ReturnType<typeof startDaemon>> | undefined;
  try {
    process.stderr.write('preparing images...\n');
    const sparse = join(tmp.dir, 'sparse.img');
    // ~160 MiB of data: a 16 MiB start (partition table, boot) and 36 extents of 4 MiB spread over 1 GiB.
    const ranges: [number, number][] = [[0, 16 * MiB]];
    for (let i = 0; i < 36; i++) ranges.push([32 * MiB + i * 27 * MiB, 32 * MiB + i * 27 * MiB + 4 * MiB]);
    await makeImage(sparse, GiB, ranges);
    await run('bmaptool', ['create', '-o', `${sparse}.bmap`, sparse]);
    const dense = join(tmp.dir, 'dense.img');
    await makeImage(dense, 512 * MiB, [[0, 512 * MiB]]);
    const huge = join(tmp.dir, 'huge.img');
    await makeImage(huge, 4 * GiB, [[0, 64 * MiB], [2 * GiB, 2 * GiB + 64 * MiB], [4 * GiB - 64 * MiB, 4 * GiB]]);
    const mappedMiB = ranges.reduce((s, [a, b]) => s + b - a, 0) / MiB;

    const mapped = join(tmp.dir, 'mapped.bin');
    await extractMapped(sparse, ranges, mapped);
    const mappedBytes = mappedMiB * MiB;

    const target = await attach(tmp.dir, 'target', GiB);
    const denseTarget = await attach(tmp.dir, 'dense-target', 512 * MiB);
    const hugeTarget = await attach(tmp.dir, 'huge-target', 4 * GiB);
    loops.push(target, denseTarget, hugeTarget);
    // four drives for one flash: the first is `target`, so one-target and four-target runs share a device
    const four = [target];
    for (let i = 1; i < 4; i++) four.push(await attach(tmp.dir, `target-${i}`, GiB));
    loops.push(...four.slice(1));

    daemon = await startDaemon({ socketPath: join(tmp.dir, 'cf.sock'), stateDir: join(tmp.dir, 'state'), entry: realDaemonEntry });
    const d = daemon;
    const daemonFlash = async (image: string, loops: Loop | Loop[], verify: boolean) => {
      const list = Array.isArray(loops) ? loops : [loops];
      const id = await d.transport.call<string>('POST', '/v1/flash', { image, targets: list.map((l) => ({ path: l.path, size: l.size })), verify, 'include-loop': true, force: true });
      const change = await waitChangeReady(d.transport, id, 20);
      if (change.status !== 'Done') throw new Error(`daemon flash failed: ${change.err}`);
      const result = change.result as FlashResult;
      const bad = result.targets.find((t) => !t.ok || (verify && !t.verified));
      if (bad) throw new Error(`daemon flash of ${bad.path} failed: ${bad.error?.message ?? 'not verified'}`);
      return result;
    };

    const cases: { name: string; group: string; bytes: number; once: () => Promise<number>; loops?: Loop[] }[] = [
      { group: 'sparse', name: 'coreforge library, no verify', bytes: GiB, once: async () => (await libraryFlash(sparse, target, false)).seconds },
      { group: 'sparse', name: 'coreforge library, verify', bytes: GiB, once: async () => (await libraryFlash(sparse, target, true)).seconds },
      { group: 'sparse x4', name: 'coreforge library, verify, 4 targets in one flash', bytes: GiB, loops: four, once: async () => (await libraryFlash(sparse, four, true)).seconds },
      { group: 'sparse', name: 'coreforge daemon, no verify', bytes: GiB, once: () => timed(() => daemonFlash(sparse, target, false)) },
      { group: 'sparse', name: 'coreforge daemon, verify', bytes: GiB, once: () => timed(() => daemonFlash(sparse, target, true)) },
      { group: 'sparse x4', name: 'coreforge daemon, verify, 4 targets in one flash', bytes: GiB, loops: four, once: () => timed(() => daemonFlash(sparse, four, true)) },
      { group: 'sparse', name: 'bmaptool copy', bytes: GiB, once: () => timed(() => run('bmaptool', ['-q', 'copy', '--bmap', `${sparse}.bmap`, sparse, target.path])) },
      {
        group: 'sparse x4',
        name: 'bmaptool copy x4, one after another',
        bytes: GiB,
        loops: four,
        once: () => timed(async () => {
          for (const l of four) await run('bmaptool', ['-q', 'copy', '--bmap', `${sparse}.bmap`, sparse, l.path]);
        }),
      },
      { group: 'sparse', name: 'dd bs=4M conv=fsync', bytes: GiB, once: () => timed(() => run('dd', [`if=${sparse}`, `of=${target.path}`, 'bs=4M', 'conv=fsync', 'status=none'])) },
      { group: 'limit', name: 'dd write + read back of the mapped bytes, 1 target', bytes: mappedBytes, loops: [target], once: () => timed(() => ddWriteReadBack(mapped, mappedBytes, [target], false)) },
      { group: 'limit', name: 'dd write + read back of the mapped bytes, 4 at once', bytes: mappedBytes, loops: four, once: () => timed(() => ddWriteReadBack(mapped, mappedBytes, four, false)) },
      { group: 'limit', name: 'dd write + read back | sha256sum, 1 target', bytes: mappedBytes, loops: [target], once: () => timed(() => ddWriteReadBack(mapped, mappedBytes, [target], true)) },
      { group: 'limit', name: 'dd write + read back | sha256sum, 4 at once', bytes: mappedBytes, loops: four, once: () => timed(() => ddWriteReadBack(mapped, mappedBytes, four, true)) },
      { group: 'dense', name: 'coreforge library, no verify', bytes: 512 * MiB, once: async () => (await libraryFlash(dense, denseTarget, false)).seconds },
      { group: 'dense', name: 'coreforge library, verify', bytes: 512 * MiB, once: async () => (await libraryFlash(dense, denseTarget, true)).seconds },
      { group: 'dense', name: 'dd bs=4M conv=fsync', bytes: 512 * MiB, once: () => timed(() => run('dd', [`if=${dense}`, `of=${denseTarget.path}`, 'bs=4M', 'conv=fsync', 'status=none'])) },
    ];
    const results = new Map<string, { seconds: number; all: number[]; bytes: number }>();
    // Rounds interleave the tools, so a slow moment of the machine does not land on one tool only.
    for (let round = 0; round < runs; round++) {
      for (const c of cases) {
        await reset(c.loops ?? [c.group === 'dense' ? denseTarget : target]);
        const seconds = await c.once();
        const key = `${c.group}: ${c.name}`;
        const entry = results.get(key) ?? { seconds: 0, all: [], bytes: c.bytes };
        entry.all.push(seconds);
        entry.seconds = median(entry.all);
        results.set(key, entry);
        process.stderr.write(`round ${round + 1}/${runs}  ${key}: ${seconds.toFixed(2)} s\n`);
      }
    }

    await reset([hugeTarget]);
    const mem = await libraryFlash(huge, hugeTarget, true);
    const daemonHwm = Number(/VmHWM:\s+(\d+) kB/.exec(await readFile(`/proc/${d.proc.pid}/status`, 'utf8'))?.[1] ?? 0);

    const s = (k: string) => results.get(k)!.seconds;
    const rows = [...results].map(([name, r]) => [name, r.seconds.toFixed(2), r.all.map((x) => x.toFixed(2)).join(' '), `${(r.bytes / MiB / r.seconds).toFixed(0)} MiB/s`]);
    const widths = [0, 1, 2, 3].map((i) => Math.max(...[['case', 'median s', 'runs', 'image MiB/s'], ...rows].map((r) => r[i]!.length)));
    const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ');
    const bmap = s('sparse: bmaptool copy');
    const libOne = s('sparse: coreforge library, verify');
    const libFour = s('sparse x4: coreforge library, verify, 4 targets in one flash');
    const dmnOne = s('sparse: coreforge daemon, verify');
    const dmnFour = s('sparse x4: coreforge daemon, verify, 4 targets in one flash');
    // What this machine allows: 4 loop devices share one disk and 2 cores, so 4 drives cannot take the time of one.
    // Without hashing, dd shows the disk's share; with sha256sum, what a verified write of 4 drives costs at least.
    const diskRatio = s('limit: dd write + read back of the mapped bytes, 4 at once') / s('limit: dd write + read back of the mapped bytes, 1 target');
    const limitRatio = s('limit: dd write + read back | sha256sum, 4 at once') / s('limit: dd write + read back | sha256sum, 1 target');
    const limitTarget = `<= 1.5, or 1.2 x dd | sha256sum's ${limitRatio.toFixed(2)} = ${(1.2 * limitRatio).toFixed(2)}`;
    // Per round, 1 and 4 targets run close together: the ratio within a round cancels most of the machine's swings.
    const perRound = (four: string, one: string) => median(results.get(four)!.all.map((x, i) => x / results.get(one)!.all[i]!));
    const libRound = perRound('sparse x4: coreforge library, verify, 4 targets in one flash', 'sparse: coreforge library, verify');
    const dmnRound = perRound('sparse x4: coreforge daemon, verify, 4 targets in one flash', 'sparse: coreforge daemon, verify');
    // How noisy the machine was: the widest spread (max - min) of one case's runs, against its median.
    const noise = Math.max(...[...results.values()].map((r) => (Math.max(...r.all) - Math.min(...r.all)) / r.seconds));
    const checks: [string, number, string, boolean][] = [
      ['library no verify / bmaptool', s('sparse: coreforge library, no verify') / bmap, '<= 1.1', s('sparse: coreforge library, no verify') / bmap <= 1.1],
      ['daemon no verify / bmaptool', s('sparse: coreforge daemon, no verify') / bmap, '<= 1.1', s('sparse: coreforge daemon, no verify') / bmap <= 1.1],
      ['library verify / bmaptool', s('sparse: coreforge library, verify') / bmap, '<= 2', s('sparse: coreforge library, verify') / bmap <= 2],
      ['daemon verify / bmaptool', s('sparse: coreforge daemon, verify') / bmap, '<= 2', s('sparse: coreforge daemon, verify') / bmap <= 2],
      ['dense throughput / dd', s('dense: dd bs=4M conv=fsync') / s('dense: coreforge library, no verify'), '>= 0.9', s('dense: dd bs=4M conv=fsync') / s('dense: coreforge library, no verify') >= 0.9],
      ['peak RSS 4 GiB flash (MiB)', mem.maxRssKiB / 1024, '< 150', mem.maxRssKiB / 1024 < 150],
      ['dd 4 at once / 1, write + read back', diskRatio, '(the disk)', true],
      ['dd 4 at once / 1, with sha256sum', limitRatio, '(disk and cores)', true],
      ['library 4 targets / 1 target, verify', libFour / libOne, limitTarget, libFour / libOne <= 1.5 || libFour / libOne <= 1.2 * limitRatio],
      ['  same, median of per-round ratios', libRound, limitTarget, libRound <= 1.5 || libRound <= 1.2 * limitRatio],
      ['daemon 4 targets / 1 target, verify', dmnFour / dmnOne, limitTarget, dmnFour / dmnOne <= 1.5 || dmnFour / dmnOne <= 1.2 * limitRatio],
      ['  same, median of per-round ratios', dmnRound, limitTarget, dmnRound <= 1.5 || dmnRound <= 1.2 * limitRatio],
      // The same limit in time rather than as a ratio: a 4-target flash against dd doing the same disk work at once.
      ['daemon 4 targets, verify / dd 4 at once', dmnFour / s('limit: dd write + read back of the mapped bytes, 4 at once'), '(the disk alone, no hashing)', true],
      ['daemon 4 targets, verify / dd | sha256sum 4', dmnFour / s('limit: dd write + read back | sha256sum, 4 at once'), '<= 1.2 (write, read back and hash)', dmnFour <= 1.2 * s('limit: dd write + read back | sha256sum, 4 at once')],
      ['daemon 4 targets / 4 x bmaptool copy', dmnFour / s('sparse x4: bmaptool copy x4, one after another'), '<= 1', dmnFour <= s('sparse x4: bmaptool copy x4, one after another')],
    ];
    process.stdout.write(
      `\nbench/flash on loop devices (1 GiB sparse image with ${mappedMiB} MiB of data; median of ${runs})\n\n` +
        [line(['case', 'median s', 'runs', 'image MiB/s']), ...rows.map(line)].join('\n') +
        `\n\n4 GiB image, no bmap, verify: ${mem.seconds.toFixed(1)} s, peak RSS ${(mem.maxRssKiB / 1024).toFixed(0)} MiB (library process); daemon peak RSS over all daemon runs ${(daemonHwm / 1024).toFixed(0)} MiB\n\n` +
        `noise: the widest spread of one case's runs was ${(noise * 100).toFixed(0)}% of its median (max - min); load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}\n\n` +
        checks.map(([name, v, target, ok]) => `${ok ? 'ok  ' : 'MISS'}  ${name.padEnd(44)} ${v.toFixed(2).padStart(7)}  (target ${target})`).join('\n') +
        '\n',
    );
  } finally {
    await daemon?.stop();
    for (const l of loops) {
      try {
        execFileSync('losetup', ['-d', l.path]);
      } catch {
        // already gone
      }
    }
    await rm(tmp.dir, { recursive: true, force: true });
  }
}

await main();
process.exit();
