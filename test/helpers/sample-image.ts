/**
 * The sample device OS (sample-os/) on the host side: build or reuse its
 * snaps, put them in the embedded store, and sign the UC18 pc model they
 * make, all through a coreforged and its CLI, as the README tells a user to.
 * Shared by the boot test, the demo and bench/boot.ts.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { modelJSON, modelTimestamp } from '../fixtures/models.js';
import { repoRoot } from './daemon.js';

/** Runs one CLI command and returns its stdout; throws (with its output) when it fails. */
export type Cli = (args: string[]) => Promise<string>;

/** The model the sample snaps make: test/fixtures/models/coreforge-pc-18.json. */
export const sampleModelName = 'coreforge-pc-18';

/** The channel each sample snap goes to: the model pins pc=18 and pc-kernel=18. */
export function sampleSnapChannel(snapFile: string): string {
  const name = basename(snapFile, '.snap');
  return name === 'pc' || name === 'pc-kernel' ? '18/stable' : 'stable';
}

/**
 * Runs `bash sample-os/build` (root; seconds when its cache is warm, a few
 * minutes when the base must be made) and returns the snap paths it prints.
 */
export function buildSampleOs(opts: { timeoutMs?: number; onLog?: (text: string) => void } = {}): Promise<{ snaps: string[]; log: string; seconds: number }> {
  const started = performance.now();
  const timeoutMs = opts.timeoutMs ?? 900_000;
  return new Promise((resolve, reject) => {
    const proc = spawn('bash', [join(repoRoot, 'sample-os/build')], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let log = '';
    proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    proc.stderr.on('data', (d: Buffer) => {
      log += d.toString();
      opts.onLog?.(d.toString());
    });
    const timer = setTimeout(() => proc.kill('SIGTERM'), timeoutMs);
    proc.on('close', (code, signal) => {
      clearTimeout(timer);
      const snaps = stdout.split('\n').filter((l) => l.endsWith('.snap'));
      if (code !== 0 || snaps.length !== 4) {
        reject(new Error(`cannot build the sample OS: bash sample-os/build ended with ${code ?? signal} and printed ${snaps.length} snaps:\n${log.trim().split('\n').slice(-20).join('\n')}`));
        return;
      }
      resolve({ snaps, log, seconds: (performance.now() - started) / 1000 });
    });
  });
}

/** Adds the sample snaps to the embedded store, each released to its model channel. */
export async function addSampleSnaps(cli: Cli, snaps: string[]): Promise<void> {
  const byChannel = new Map<string, string[]>();
  for (const s of snaps) byChannel.set(sampleSnapChannel(s), [...(byChannel.get(sampleSnapChannel(s)) ?? []), s]);
  for (const [channel, files] of byChannel) await cli(['store', 'add', ...files, '--channel', channel]);
}

/**
 * Writes the UC18 pc model for BRANDID and signs it with KEYNAME; returns the
 * path of the signed model. The key must be registered a second before the
 * model's timestamp, which this waits for.
 */
export async function signSampleModel(cli: Cli, opts: { dir: string; brandId: string; keyName: string; passphraseFile: string }): Promise<string> {
  await new Promise((r) => setTimeout(r, 1100));
  const json = join(opts.dir, `${sampleModelName}.json`);
  writeFileSync(json, JSON.stringify(modelJSON(sampleModelName, opts.brandId, modelTimestamp(new Date())), null, 2));
  const model = join(opts.dir, `${sampleModelName}.model`);
  writeFileSync(model, await cli(['sign', '-k', opts.keyName, '--passphrase-file', opts.passphraseFile, json]));
  return model;
}

/** Builds the 1 GiB sample image from the embedded store; returns the pc.img path. */
export async function buildSampleImage(cli: Cli, opts: { model: string; out: string; firstBoot?: string }): Promise<string> {
  await cli(['build', '-O', opts.out, '-i', '1G', ...(opts.firstBoot ? ['--first-boot', opts.firstBoot] : []), opts.model]);
  return join(opts.out, 'pc.img');
}
