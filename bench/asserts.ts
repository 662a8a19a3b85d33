/**
 * bench/asserts: key creation against gpg, and assertion signing/verifying rates.
 * Run: node --import tsx bench/asserts.ts [--runs N] [--seconds S]
 * Targets (issue #3): create-key median under 3 s; verify at least 500 models/s on one core.
 *
 * - create-key: coreforge's Keyring.create (RSA-4096 generation, passphrase
 *   encryption, 0600 file, sqlite row) against `gpg --batch --gen-key` with
 *   snapd's parameters (RSA 4096, no expiry, passphrase, creation date
 *   2016-01-01, no subkey) in a temporary GNUPGHOME, alternating, same run.
 * - sign/s: `snap sign` of a UC20 model JSON statement with an unlocked key.
 * - verify/s: decode the model text, check its signature and its chain to a
 *   trusted root (the key's self-signed account-key), one model at a time on
 *   the main thread.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  checkChain,
  createChainCache,
  decodeAssertion,
  encodeAssertion,
  encodePublicKey,
  signAssertion,
  signStatementText,
  verifyAssertionSignature,
} from '../daemon/asserts/index.js';
import { Database } from '../daemon/db/database.js';
import { migrate } from '../daemon/db/migrations.js';
import { Keyring } from '../daemon/keys/index.js';
import { makeTempDir } from '../test/helpers/tmp.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' }, seconds: { type: 'string', default: '3' } } });
const runs = Number(values.runs);
const seconds = Number(values.seconds);
const passphrase = 'bench passphrase';

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

function gpgGenKey(home: string, name: string): number {
  const params = ['Key-Type: RSA', 'Key-Length: 4096', `Name-Real: ${name}`, 'Creation-Date: seconds=1451606400', 'Preferences: SHA512', 'Expire-Date: 0', `Passphrase: ${passphrase}`, '%commit', ''].join('\n');
  const t0 = performance.now();
  execFileSync('gpg', ['--homedir', home, '--batch', '--gen-key'], { input: params, stdio: ['pipe', 'ignore', 'ignore'] });
  return performance.now() - t0;
}

/** Runs fn repeatedly for the configured seconds; returns operations per second. */
function rate(fn: () => void): number {
  fn();
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) {
    fn();
    n++;
  }
  return n / ((performance.now() - t0) / 1000);
}

async function asyncRate(fn: () => Promise<void>): Promise<number> {
  await fn();
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) {
    await fn();
    n++;
  }
  return n / ((performance.now() - t0) / 1000);
}

const { dir, cleanup } = await makeTempDir('coreforge-bench-');
const gnupgHome = join(dir, 'gnupg');
mkdirSync(gnupgHome, { mode: 0o700 });
const db = await Database.open(join(dir, 'state.db'));
try {
  await migrate(db);
  const keyring = await new Keyring({ db, dir: join(dir, 'keys') }).open();
  const ours: number[] = [];
  const theirs: number[] = [];
  process.stderr.write(`create-key: ${runs} runs each of coreforge and gpg, alternating\n`);
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await keyring.create(`bench-${i}`, passphrase);
    ours.push(performance.now() - t0);
    theirs.push(gpgGenKey(gnupgHome, `bench-${i}`));
    process.stderr.write(`  run ${i + 1}: coreforge ${fmt(ours[i]!)}, gpg ${fmt(theirs[i]!)}\n`);
  }

  const signer = await keyring.signer('bench-0', passphrase);
  const statement = JSON.stringify({
    type: 'model',
    'authority-id': 'bench-brand',
    'brand-id': 'bench-brand',
    series: '16',
    model: 'bench-model',
    architecture: 'amd64',
    base: 'core22',
    grade: 'signed',
    snaps: [
      { name: 'pc', type: 'gadget', id: 'UqFziVZDHLSyO3TqSWgNBoAdHbLI4dAH', 'default-channel': '22/stable' },
      { name: 'pc-kernel', type: 'kernel', id: 'pYVQrBcKmBa0mZ4CCN7ExT6jH8rY1hza', 'default-channel': '22/stable' },
      { name: 'core22', type: 'base', id: 'amcUKQILKXHHTlmSa7NMdnXSx02dNeeT', 'default-channel': 'latest/stable' },
      { name: 'snapd', type: 'snapd', id: 'PMrrV4ml8uWuEUDBT8dSGnKUYbevVhc4', 'default-channel': 'latest/stable' },
    ],
    timestamp: '2024-01-01T00:00:00Z',
  });
  const time = new Date('2024-06-01T00:00:00Z');
  let text = '';
  const signRate = rate(() => {
    text = encodeAssertion(signStatementText(statement, signer, { time }));
  });
  const root = signAssertion(
    'account-key',
    { 'authority-id': 'bench-brand', 'account-id': 'bench-brand', name: 'bench-0', since: '2016-01-01T00:00:00Z', 'public-key-sha3-384': signer.publicKey.id },
    encodePublicKey(signer.publicKey),
    signer,
    { time },
  );
  const ctx = { trusted: { accountKeys: [root] }, findAccountKey: () => undefined, cache: createChainCache() };
  const verifyRate = await asyncRate(async () => {
    await checkChain(decodeAssertion(text), ctx);
  });
  const signatureOnlyRate = rate(() => verifyAssertionSignature(decodeAssertion(text), signer.publicKey));

  const rows: [string, string, string][] = [
    ['create-key median (RSA-4096)', fmt(median(ours)), `gpg --batch --gen-key: ${fmt(median(theirs))}`],
    ['create-key min / max', `${fmt(Math.min(...ours))} / ${fmt(Math.max(...ours))}`, `gpg: ${fmt(Math.min(...theirs))} / ${fmt(Math.max(...theirs))}`],
    ['sign model', `${signRate.toFixed(0)} /s`, 'RSA-4096 PKCS#1 v1.5, SHA-512'],
    ['verify model (decode + chain)', `${verifyRate.toFixed(0)} /s`, 'target >= 500 /s'],
    ['verify model (decode + signature)', `${signatureOnlyRate.toFixed(0)} /s`, ''],
  ];
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const w1 = Math.max(...rows.map((r) => r[1].length));
  process.stdout.write(`\nbench/asserts (${runs} create runs, ${seconds} s per rate, node ${process.version})\n`);
  for (const [a, b, c] of rows) process.stdout.write(`${a.padEnd(w0)}  ${b.padStart(w1)}  ${c}\n`);
} finally {
  await db.close();
  spawnSync('gpgconf', ['--homedir', gnupgHome, '--kill', 'gpg-agent'], { stdio: 'ignore' });
  await cleanup();
}
