/**
 * bench/boot: the sample device OS from build to ssh on this machine, with
 * qemu's TCG (no KVM) and one CPU, as the boot test and CI run it (root
 * needed: sample-os/build).
 * Run: node --import tsx bench/boot.ts [--runs 1] [--builds 3] [--cold]
 *
 * - `bash sample-os/build`: with its cache (seconds: the inputs are checked),
 *   and with --cold from nothing (the cache is moved aside first, and put
 *   back if the cold build fails);
 * - the size of each sample snap;
 * - `coreforge build` of the 1 GiB pc image from the embedded store through a
 *   real coreforged and the CLI: wall time, median of --builds, and the
 *   daemon's own step timings from build.json;
 * - per run, a fresh copy of the image booted by scripts/boot: qemu start to
 *   the kernel, to systemd, to console-conf's prompt on the serial console,
 *   to the done screen (answered as fast as it asks), to a working ssh login;
 *   then power off, and the same disk's second boot to getty's login prompt.
 * The host's load average is printed with the figures: TCG times scale with it.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { repoRoot, runCli, type DaemonProcess, startStoreDaemon } from '../test/helpers/daemon.js';
import { answerConsoleConf, untilConsoleConf, untilLoginPrompt } from '../test/helpers/guest-flow.js';
import { sshRun, waitForSsh } from '../test/helpers/guest-ssh.js';
import { freePort } from '../test/helpers/net.js';
import { bootImage, missingForBoot, type GuestBoot } from '../test/helpers/qemu-boot.js';
import { addSampleSnaps, buildSampleImage, buildSampleOs, signSampleModel } from '../test/helpers/sample-image.js';
import { makeTempDir } from '../test/helpers/tmp.js';

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '1' },
    builds: { type: 'string', default: '3' },
    cold: { type: 'boolean', default: false },
  },
});
const runs = Number(args.runs);
const builds = Number(args.builds);

const missing = missingForBoot();
if (missing.length > 0) {
  console.error(`bench/boot: cannot run: this machine lacks ${missing.join(', ')}; run bash scripts/setup, and the bench as root`);
  process.exit(1);
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
const span = (xs: number[]) => (xs.length > 1 ? ` (${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)})` : '');
const seconds = (xs: number[]) => `${median(xs).toFixed(1)} s${span(xs)}`;
const load = () => loadavg().map((l) => l.toFixed(1)).join(' ');

/** `bash sample-os/build` from nothing: the cache moved aside, and back if the build fails. */
async function coldSampleBuild(): Promise<number> {
  const cache = join(repoRoot, '.cache/sample-os');
  const aside = `${cache}.bench-${process.pid}`;
  if (existsSync(cache)) renameSync(cache, aside);
  try {
    const r = await buildSampleOs();
    rmSync(aside, { recursive: true, force: true });
    return r.seconds;
  } catch (err) {
    rmSync(cache, { recursive: true, force: true });
    if (existsSync(aside)) renameSync(aside, cache);
    throw err;
  }
}

interface BootRun {
  kernel: number;
  systemd: number;
  prompt: number;
  done: number;
  ssh: number;
  poweredOff: number;
  secondLogin: number;
}

async function main(): Promise<void> {
  const rows: [string, string][] = [];
  console.log(`bench/boot: ${runs} boot run(s), ${builds} image build(s); load average at start ${load()}`);

  let cold: number | undefined;
  if (args.cold) {
    console.log('sample-os/build from nothing (--cold)...');
    cold = await coldSampleBuild();
  }
  const sample = await buildSampleOs();
  if (cold !== undefined) rows.push(['sample-os/build, cold', `${cold.toFixed(1)} s`]);
  rows.push(['sample-os/build, cached', `${sample.seconds.toFixed(1)} s`]);
  for (const s of sample.snaps) rows.push([`snap ${basename(s)}`, `${(statSync(s).size / 1e6).toFixed(s.endsWith('snapd.snap') ? 3 : 1)} MB (${statSync(s).size} bytes)`]);

  const tmp = await makeTempDir('coreforge-bench-boot-');
  const work = tmp.dir;
  const storePort = await freePort();
  let daemon: DaemonProcess | undefined;
  let guest: GuestBoot | undefined;
  try {
    daemon = await startStoreDaemon(work, storePort, { COREFORGE_LOG_LEVEL: 'warn' });
    const socketPath = daemon.socketPath;
    const cli = async (a: string[]) => {
      const r = await runCli(a, { socketPath, timeoutMs: 600_000 });
      if (r.code !== 0) throw new Error(`coreforge ${a.join(' ')} failed:\n${r.stdout}${r.stderr}`);
      return r.stdout;
    };
    const secrets = join(work, 'secrets');
    mkdirSync(secrets, { mode: 0o700 });
    const key = join(secrets, 'id_ed25519');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
    writeFileSync(join(secrets, 'password'), 'bench-password-123\n');
    writeFileSync(join(secrets, 'passphrase'), 'bench-passphrase-456\n');
    const email = 'bench@example.com';
    await addSampleSnaps(cli, sample.snaps);
    await cli(['store', 'account', 'add', email, '--username', 'bench', '--ssh-key', `${key}.pub`, '--password-file', join(secrets, 'password')]);
    await cli(['login', email, '--password-file', join(secrets, 'password')]);
    const brandId = (JSON.parse(await cli(['whoami', '--json'])) as Record<string, string>)['account-id']!;
    await cli(['create-key', 'bench', '--passphrase-file', join(secrets, 'passphrase')]);
    await cli(['register-key', 'bench', '--passphrase-file', join(secrets, 'passphrase')]);
    const model = await signSampleModel(cli, { dir: work, brandId, keyName: 'bench', passphraseFile: join(secrets, 'passphrase') });

    const buildTimes: number[] = [];
    let image = '';
    let stepTimings = '';
    for (let i = 0; i < builds; i++) {
      const out = join(work, `image-${i}`);
      const started = performance.now();
      image = await buildSampleImage(cli, { model, out });
      buildTimes.push((performance.now() - started) / 1000);
      const timings = (JSON.parse(readFileSync(join(out, 'build.json'), 'utf8')) as { timings?: Record<string, number> }).timings ?? {};
      stepTimings = Object.entries(timings).map(([step, ms]) => `${step} ${(ms / 1000).toFixed(2)}`).join(', ');
      if (i < builds - 1) rmSync(out, { recursive: true });
    }
    rows.push(['coreforge build, 1 GiB pc image from the embedded store (CLI wall time)', seconds(buildTimes)]);
    if (stepTimings) rows.push(['  the daemon\'s steps, last build (s)', stepTimings]);

    const results: BootRun[] = [];
    for (let run = 1; run <= runs; run++) {
      const disk = join(work, `disk-${run}.img`);
      execFileSync('cp', ['--sparse=always', image, disk]);
      console.log(`run ${run}: first boot (load average ${load()})`);
      guest = await bootImage({ image: disk, dir: work, name: `run${run}-first`, storePort, accel: 'tcg' });
      const early = await untilConsoleConf(guest.console);
      const details = await answerConsoleConf(guest.console, email);
      const done = guest.console.elapsed();
      const target = { port: guest.sshPort, user: details.user, key };
      await waitForSsh(target, 120_000);
      const ssh = guest.console.elapsed();
      await sshRun(target, 'sudo -n systemctl poweroff');
      await guest.waitForPowerOff(180_000);
      const poweredOff = guest.console.elapsed();
      console.log(`run ${run}: second boot (load average ${load()})`);
      guest = await bootImage({ image: disk, dir: work, name: `run${run}-second`, storePort, accel: 'tcg' });
      const second = await untilLoginPrompt(guest.console);
      await guest.stop();
      guest = undefined;
      rmSync(disk);
      results.push({ ...early, done, ssh, poweredOff, secondLogin: second.login });
      console.log(`run ${run}: console-conf prompt ${early.prompt.toFixed(1)} s, ssh ${ssh.toFixed(1)} s, second boot login prompt ${second.login.toFixed(1)} s`);
    }
    const col = (k: keyof BootRun) => seconds(results.map((r) => r[k]));
    rows.push(
      ['qemu start to the kernel (OVMF, grub)', col('kernel')],
      ['qemu start to systemd (the initramfs done)', col('systemd')],
      ["qemu start to console-conf's prompt on ttyS0", col('prompt')],
      ['qemu start to the done screen (answered as fast as asked)', col('done')],
      ['qemu start to a working ssh login', col('ssh')],
      ['qemu start to power off (after sudo systemctl poweroff at the ssh login)', col('poweredOff')],
      ["second boot: qemu start to getty's login prompt", col('secondLogin')],
    );
  } finally {
    await guest?.stop();
    await daemon?.stop();
    await tmp.cleanup();
  }

  const width = Math.max(...rows.map(([w]) => w.length));
  console.log(`\nbench/boot: TCG, -smp 1 -m 1024, ${runs} run(s)${runs > 1 ? ': median (min–max)' : ''}; load average at the end ${load()}`);
  for (const [what, figure] of rows) console.log(`${what.padEnd(width)}  ${figure}`);
}

await main();
