/**
 * bench/store: downloading a snap from coreforge's store server (a real
 * coreforged --store-listen, built into dist/) on 127.0.0.1, in one run:
 *
 * - snapd's own client, `snap download` (the Debian snapd package that
 *   scripts/setup unpacks, pointed at the server with SNAPPY_FORCE_API_URL):
 *   process start, the refresh request, the download, its SHA3-384 check, then
 *   its assertion fetch (which ends, as it must, on the local store's root
 *   that snapd does not trust: the snap is already downloaded and checked);
 * - coreforge's verified download as a user runs it: `coreforge store download`
 *   (dist/ CLI, plain node) against a second coreforged whose store is that
 *   server: process start, resolve, download + SHA3-384 check, assertions
 *   (the client daemon's cache is emptied before each run);
 * - the same download in-process (the store client's downloadSnap), and its
 *   transfer alone (network + write, no digest), against `curl` for the
 *   transfer alone;
 * - SHA3-384 alone on one core, the ceiling of any verified download here.
 * Rounds interleave the tools; medians, with every run shown (the spread says
 * how noisy the machine was).
 * Run: node --import tsx bench/store.ts [--mib N] [--runs N]
 * Targets (issue #16): verified download at least as fast as `snap download`;
 * transfer alone at least 80% of curl.
 */
import { execFile, execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rm, stat, writeFile, open } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { promisify } from 'node:util';
import { downloadSnap, fetchInto, SnapCache } from '../daemon/store/client/download.js';
import { StoreClient } from '../daemon/store/client/client.js';
import { builtDaemonEntry, repoRoot, startDaemon, waitChangeReady } from '../test/helpers/daemon.js';
import { freePort } from '../test/helpers/net.js';
import { makeTempDir } from '../test/helpers/tmp.js';

const run = promisify(execFile);
const { values } = parseArgs({ options: { mib: { type: 'string', default: '256' }, runs: { type: 'string', default: '5' } } });
const mib = Number(values.mib);
const runs = Number(values.runs);
const snapClient = join(repoRoot, '.cache/snapd/usr/bin/snap');
const cliEntry = join(repoRoot, 'dist/client/main.js');
if (!existsSync(snapClient)) throw new Error(`bench/store needs snapd's client at ${snapClient}: run scripts/setup`);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const tmp = await makeTempDir('coreforge-bench-store-');
const daemons: Awaited<ReturnType<typeof startDaemon>>[] = [];
try {
  // A snap with `mib` MiB of incompressible data, stored uncompressed.
  const root = join(tmp.dir, 'snap');
  await mkdir(join(root, 'meta'), { recursive: true });
  await writeFile(join(root, 'meta', 'snap.yaml'), 'name: bench-blob\nversion: 1.0\nsummary: bench\narchitectures: [all]\n');
  const fh = await open(join(root, 'blob'), 'w');
  for (let i = 0; i < mib; i++) await fh.write(randomBytes(1 << 20));
  await fh.close();
  const snapPath = join(tmp.dir, 'bench-blob_1.snap');
  await run('mksquashfs', [root, snapPath, '-noappend', '-no-progress', '-noD', '-noF', '-all-root'], { maxBuffer: 1 << 24 });

  // The daemon and CLI as installed (dist/, plain node): under tsx they would carry the TypeScript loader too.
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: repoRoot, stdio: 'inherit' });
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const server = await startDaemon({ socketPath: join(tmp.dir, 'server.sock'), stateDir: join(tmp.dir, 'server'), entry: builtDaemonEntry, extraArgs: ['--store-listen', `127.0.0.1:${port}`] }, 60_000);
  daemons.push(server);
  await server.transport.call('POST', '/v1/store/snaps', { path: snapPath, channel: 'stable' });
  // The downloading daemon: its store is the server above, as a device builder's would be.
  const clientState = join(tmp.dir, 'client');
  const clientDaemon = await startDaemon({ socketPath: join(tmp.dir, 'client.sock'), stateDir: clientState, entry: builtDaemonEntry, extraArgs: ['--store-url', url] }, 60_000);
  daemons.push(clientDaemon);

  const client = new StoreClient({ apiUrl: url, ssoUrl: url, dashboardUrl: url, credentialsPath: join(tmp.dir, 'creds'), cacheDir: join(tmp.dir, 'cache') });
  const snap = await client.resolve('bench-blob', 'stable', 'amd64');
  const size = snap.size;
  const mbps = (ms: number) => size / 2 ** 20 / (ms / 1000);

  const timed = async (f: () => Promise<void>) => {
    const t0 = performance.now();
    await f();
    return performance.now() - t0;
  };
  const expectSize = async (path: string, what: string) => {
    const got = (await stat(path)).size;
    if (got !== size) throw new Error(`${what} wrote ${got} bytes to ${path}, not the snap's ${size}`);
  };
  const cases: { name: string; once: () => Promise<void> }[] = [
    {
      name: 'curl (transfer alone)',
      once: async () => {
        const out = join(tmp.dir, 'curl.out');
        await run('curl', ['-sS', '-f', '-o', out, snap.url]);
        await expectSize(out, 'curl');
        await rm(out);
      },
    },
    {
      name: 'snap download (snapd client, verified)',
      once: async () => {
        const out = join(tmp.dir, 'snapd-out');
        // snapd exits non-zero after the download, on the assertions of a root it does not trust
        const output = await new Promise<string>((resolve) =>
          execFile(snapClient, ['download', 'bench-blob', '--channel=stable', `--target-directory=${out}`], { env: { ...process.env, SNAPPY_FORCE_API_URL: `${url}/`, HOME: tmp.dir } }, (_err, so, se) => resolve(so + se)),
        );
        if (!/Fetching assertions for "bench-blob"/.test(output) || /mismatch|cannot download/.test(output)) throw new Error(`snap download did not download and verify the snap:\n${output}`);
        await expectSize(join(out, 'bench-blob_1.snap'), 'snap download');
        await rm(out, { recursive: true });
      },
    },
    {
      name: 'coreforge store download (CLI + daemon, verified)',
      once: async () => {
        await rm(join(clientState, 'cache'), { recursive: true, force: true });
        const { stdout } = await run(process.execPath, [cliEntry, 'store', 'download', 'bench-blob', '--json'], { env: { ...process.env, COREFORGE_SOCKET: clientDaemon.socketPath } });
        const r = JSON.parse(stdout) as { path: string; downloaded: number };
        if (r.downloaded !== size) throw new Error(`coreforge store download fetched ${r.downloaded} bytes, not ${size}`);
        await expectSize(r.path, 'coreforge store download');
      },
    },
    {
      // the same without the CLI process: what the CLI's start costs on this machine
      name: 'coreforged POST /v1/store/downloads until done',
      once: async () => {
        await rm(join(clientState, 'cache'), { recursive: true, force: true });
        const id = await clientDaemon.transport.call<string>('POST', '/v1/store/downloads', { name: 'bench-blob', channel: 'stable', architecture: 'amd64' });
        const change = await waitChangeReady(clientDaemon.transport, id, 10);
        if (change.status !== 'Done') throw new Error(`daemon download failed: ${change.err}`);
      },
    },
    {
      name: 'coreforge downloadSnap in-process (verified)',
      once: async () => {
        const cache = new SnapCache(join(tmp.dir, `cache-${randomBytes(4).toString('hex')}`), 2 ** 40);
        const r = await downloadSnap({ name: snap.name, url: snap.url, sha3_384: snap['sha3-384'], size }, cache);
        await rm(cache.dir, { recursive: true });
        if (r.downloaded !== size) throw new Error('short download');
      },
    },
    {
      // the client's HTTP path (fetchInto) with a no-op hasher: what curl does
      name: 'coreforge transfer alone (in-process)',
      once: async () => {
        const noHash = { update: () => {}, full: () => false, room: async () => {}, digest: async () => '', dispose: () => {} };
        const out = join(tmp.dir, 'transfer.out');
        const r = await fetchInto({ name: snap.name, url: snap.url, sha3_384: '', size }, out, noHash, 0, () => {});
        await rm(out);
        if (r.got !== size) throw new Error('short transfer');
      },
    },
  ];
  const results = new Map<string, number[]>(cases.map((c) => [c.name, []]));
  for (let round = 0; round < runs; round++) {
    for (const c of cases) {
      const ms = await timed(c.once).catch((err: unknown) => {
        // the daemons' own words on a failed run: it is theirs more often than the client's
        throw new Error(`${c.name} failed in round ${round + 1}: ${String(err)}\n--- store server log:\n${server.logs().slice(-4000)}\n--- client daemon log:\n${clientDaemon.logs().slice(-4000)}`);
      });
      results.get(c.name)!.push(ms);
      process.stderr.write(`round ${round + 1}/${runs}  ${c.name}: ${ms.toFixed(0)} ms\n`);
    }
  }
  const hashRuns: number[] = [];
  for (let i = 0; i < 3; i++) {
    hashRuns.push(
      await timed(async () => {
        const h = createHash('sha3-384');
        const buf = Buffer.alloc(1 << 20);
        for (let done = 0; done < size; done += buf.length) h.update(buf.subarray(0, Math.min(buf.length, size - done)));
        h.digest();
      }),
    );
  }
  const hashMs = median(hashRuns);

  const m = (name: string) => median(results.get(name)!);
  const curl = m('curl (transfer alone)');
  const snapd = m('snap download (snapd client, verified)');
  const cli = m('coreforge store download (CLI + daemon, verified)');
  const transfer = m('coreforge transfer alone (in-process)');
  const head = ['case', 'median ms', 'MiB/s', 'runs (ms)'];
  const rows = cases.map((c) => [c.name, m(c.name).toFixed(0), mbps(m(c.name)).toFixed(0), results.get(c.name)!.map((x) => x.toFixed(0)).join(' ')]);
  rows.push(['SHA3-384 alone, from memory, one core', hashMs.toFixed(0), mbps(hashMs).toFixed(0), '(the ceiling of a verified download)']);
  const widths = head.map((_, i) => Math.max(...[head, ...rows].map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  const spread = (name: string) => {
    const xs = results.get(name)!;
    return (Math.max(...xs) - Math.min(...xs)) / median(xs);
  };
  const noise = Math.max(...cases.map((c) => spread(c.name)));
  // Within a round the tools run back to back: per-round ratios cancel most of a loaded machine's swings.
  const roundRatio = (a: string, b: string) => median(results.get(a)!.map((x, i) => x / results.get(b)![i]!));
  const cliRound = roundRatio('coreforge store download (CLI + daemon, verified)', 'snap download (snapd client, verified)');
  const transferRound = roundRatio('curl (transfer alone)', 'coreforge transfer alone (in-process)');
  const checks: [string, number, string, boolean][] = [
    ['coreforge verified / snap download (time), ratio of medians', cli / snapd, '<= 1.0', cli <= snapd],
    ['coreforge verified / snap download (time), median round ratio', cliRound, '<= 1.0', cliRound <= 1],
    ['coreforge transfer / curl (throughput), ratio of medians', curl / transfer, '>= 0.8', curl / transfer >= 0.8],
    ['coreforge transfer / curl (throughput), median round ratio', transferRound, '>= 0.8', transferRound >= 0.8],
  ];
  process.stdout.write(
    `\nbench/store: ${(size / 2 ** 20).toFixed(0)} MiB snap from coreforged --store-listen on 127.0.0.1; median of ${runs}, rounds interleaved\n\n` +
      [line(head), ...rows.map(line)].join('\n') +
      `\n\nnoise: the widest spread of one case was ${(noise * 100).toFixed(0)}% of its median (max - min); load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}\n\n` +
      checks.map(([name, v, target, ok]) => `${ok ? 'ok  ' : 'MISS'}  ${name.padEnd(62)} ${v.toFixed(2).padStart(6)}  (target ${target})`).join('\n') +
      '\n',
  );
} finally {
  for (const d of daemons) await d.stop();
  await tmp.cleanup();
}
