/**
 * bench/store: download throughput from the local store server (127.0.0.1)
 * with coreforge's store client, against `curl` fetching the same URL in the
 * same run. The client's figure is given twice: the whole download as the
 * daemon does it (network + write + SHA3-384 verification), and the transfer
 * alone (network + write, as curl does), since SHA3-384 in OpenSSL runs at a
 * fixed speed per core that can be below the loopback's.
 * The server is a real coreforged --store-listen process.
 * Run: node --import tsx bench/store.ts [--mib N] [--runs N]
 * Target (issue #4): at least 80% of curl's throughput.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, rm, writeFile, open } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { promisify } from 'node:util';
import { downloadSnap, fetchInto, SnapCache } from '../daemon/store/client/download.js';
import { StoreClient } from '../daemon/store/client/client.js';
import { realDaemonEntry, startDaemon } from '../test/helpers/daemon.js';
import { makeTempDir } from '../test/helpers/tmp.js';

const run = promisify(execFile);
const { values } = parseArgs({ options: { mib: { type: 'string', default: '256' }, runs: { type: 'string', default: '3' } } });
const mib = Number(values.mib);
const runs = Number(values.runs);

const tmp = await makeTempDir('coreforge-bench-store-');
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

  // the server runs in a real coreforged (--store-listen), as in production
  const port = 20000 + Math.floor(Math.random() * 20000);
  const daemon = await startDaemon({ socketPath: join(tmp.dir, 'cf.sock'), stateDir: join(tmp.dir, 'state'), entry: realDaemonEntry, extraArgs: ['--store-listen', `127.0.0.1:${port}`] }, 60_000);
  await daemon.transport.call('POST', '/v1/store/snaps', { path: snapPath, channel: 'stable' });
  const url = `http://127.0.0.1:${port}`;
  const client = new StoreClient({ apiUrl: url, ssoUrl: url, dashboardUrl: url, credentialsPath: join(tmp.dir, 'creds'), cacheDir: join(tmp.dir, 'cache') });
  const snap = await client.resolve('bench-blob', 'stable', 'amd64');
  const size = snap.size;
  const mbps = (ms: number) => size / 2 ** 20 / (ms / 1000);

  const best = async (f: () => Promise<void>) => {
    let min = Infinity;
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      await f();
      min = Math.min(min, performance.now() - t0);
    }
    return min;
  };
  const curlMs = await best(async () => {
    await run('curl', ['-sS', '-f', '-o', join(tmp.dir, 'curl.out'), snap.url]);
    await rm(join(tmp.dir, 'curl.out'));
  });
  const fullMs = await best(async () => {
    const cache = new SnapCache(join(tmp.dir, `cache-${randomBytes(4).toString('hex')}`), 2 ** 40);
    const r = await downloadSnap({ name: snap.name, url: snap.url, sha3_384: snap['sha3-384'], size }, cache);
    await rm(cache.dir, { recursive: true });
    if (r.downloaded !== size) throw new Error('short download');
  });
  // the transfer alone: the client's HTTP path (fetchInto) with a no-op hasher
  const noHash = { update: () => {}, full: () => false, room: async () => {}, digest: async () => '', dispose: () => {} };
  const transferMs = await best(async () => {
    const out = join(tmp.dir, 'transfer.out');
    const r = await fetchInto({ name: snap.name, url: snap.url, sha3_384: '', size }, out, noHash, 0, () => {});
    await rm(out);
    if (r.got !== size) throw new Error('short transfer');
  });
  const hashMs = await best(async () => {
    const h = createHash('sha3-384');
    const buf = Buffer.alloc(1 << 20);
    for (let done = 0; done < size; done += buf.length) h.update(buf.subarray(0, Math.min(buf.length, size - done)));
    h.digest();
  });
  await daemon.stop();
  const lines = [
    `snap: ${(size / 2 ** 20).toFixed(0)} MiB, best of ${runs}`,
    `curl:                         ${mbps(curlMs).toFixed(0)} MiB/s (${curlMs.toFixed(0)} ms)`,
    `coreforge download + verify:  ${mbps(fullMs).toFixed(0)} MiB/s (${fullMs.toFixed(0)} ms) = ${((curlMs / fullMs) * 100).toFixed(0)}% of curl`,
    `coreforge transfer alone:     ${mbps(transferMs).toFixed(0)} MiB/s (${transferMs.toFixed(0)} ms) = ${((curlMs / transferMs) * 100).toFixed(0)}% of curl`,
    `SHA3-384 alone (one core):    ${mbps(hashMs).toFixed(0)} MiB/s (the ceiling of a verified download)`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
} finally {
  await tmp.cleanup();
}
