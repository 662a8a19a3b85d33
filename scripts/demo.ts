/**
 * The coreforge demo (README command 1): a throwaway coreforged with the
 * embedded local store, driven through the real CLI the way a device maker
 * would, from a new store account to a flashed image, then (unless --no-boot,
 * or the machine cannot) the sample OS image built from the store and booted
 * in qemu to console-conf and an ssh login; a report at the end.
 * Nothing is left running: the daemon, qemu, the temp dirs and the loop device go.
 */
import { execFileSync, spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { BuildInfo } from '../daemon/api/types.js';
import { buildAllFixtures } from '../test/fixtures/snaps.js';
import { FIXTURE_MODELS, modelJSON, modelTimestamp } from '../test/fixtures/models.js';
import { cliEntry, runCli, type DaemonProcess, startStoreDaemon } from '../test/helpers/daemon.js';
import { makeTempDir } from '../test/helpers/tmp.js';
import { freePort } from '../test/helpers/net.js';
import { missingForBoot } from '../test/helpers/qemu-boot.js';
import { demoBoot } from './demo-boot.js';

const usage = `usage: npm run demo [-- --no-boot]

Runs the whole journey through a throwaway coreforged: store account, keys,
signed models, image builds, a flash to a loop device (as root), then the
sample device OS (sample-os/) built from the embedded store and booted in
qemu to console-conf and an ssh login. The boot needs root, qemu-system-x86
and ovmf (bash scripts/setup installs them); it is skipped, saying why, when
they are missing.

  --no-boot   stop after the flash: no sample OS, no qemu
`;
function readFlags() {
  try {
    return parseArgs({ options: { 'no-boot': { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } } }).values;
  } catch (err) {
    process.stderr.write(`demo: cannot use these arguments: ${(err as Error).message}\n${usage}`);
    process.exit(2);
  }
}
const flags = readFlags();
if (flags.help) {
  process.stdout.write(usage);
  process.exit(0);
}
/** Why the demo does not boot the sample OS, or undefined when it does. */
function whyNoBoot(): string | undefined {
  if (flags['no-boot']) return 'asked not to (--no-boot)';
  const missing = missingForBoot();
  return missing.length > 0 ? `this machine lacks ${missing.join(', ')} (bash scripts/setup installs the packages; run the demo as root)` : undefined;
}

interface StepResult {
  step: string;
  seconds: number;
  ok: boolean;
  note?: string;
}

const report: StepResult[] = [];
const dim = (s: string) => (process.stdout.isTTY ? `\x1b[2m${s}\x1b[0m` : s);

/** An OpenSSH ed25519 public key line, made fresh for the demo account. */
function sshPublicKey(comment: string): string {
  const { publicKey } = generateKeyPairSync('ed25519');
  const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url');
  const field = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
  return `ssh-ed25519 ${Buffer.concat([field(Buffer.from('ssh-ed25519')), field(raw)]).toString('base64')} ${comment}`;
}

async function main(): Promise<number> {
  const tmp = await makeTempDir('coreforge-demo-');
  const work = tmp.dir;
  let daemon: DaemonProcess | undefined;
  let loop: string | undefined;
  try {
    /**
     * Runs one CLI step. Steps whose output the demo needs are captured; the
     * others run on the demo's own terminal, so progress bars show live.
     */
    const cli = async (title: string, args: string[], opts: { stdoutTo?: string; capture?: boolean } = {}) => {
      console.log(`\n== ${title}\n$ coreforge ${args.join(' ')}${opts.stdoutTo ? ` > ${opts.stdoutTo}` : ''}`);
      const started = Date.now();
      let code: number;
      let stdout = '';
      if (opts.stdoutTo || opts.capture) {
        const r = await runCli(args, { socketPath: daemon!.socketPath, timeoutMs: 600_000 });
        process.stdout.write(dim(r.stderr));
        if (opts.stdoutTo) writeFileSync(opts.stdoutTo, r.stdout);
        ({ code, stdout } = r);
      } else {
        const child = spawn(process.execPath, ['--import', 'tsx', cliEntry, ...args], {
          stdio: 'inherit',
          env: { ...process.env, COREFORGE_SOCKET: daemon!.socketPath },
        });
        code = await new Promise<number>((resolve) => child.on('exit', (c) => resolve(c ?? 1)));
      }
      report.push({ step: title, seconds: (Date.now() - started) / 1000, ok: code === 0 });
      if (code !== 0) throw new Error(`step "${title}" failed with exit code ${code}`);
      return stdout;
    };

    console.log('== Fixture snaps: small but real squashfs snaps (gadgets, kernels, bases, snapd)');
    let started = Date.now();
    const snapsDir = join(work, 'snaps');
    const needed = [...new Set([...FIXTURE_MODELS['my-pi3']!, ...FIXTURE_MODELS['coreforge-pc-20-dangerous']!])];
    const built = await buildAllFixtures(snapsDir, { ids: needed });
    for (const f of Object.values(built)) console.log(`  ${f.fileName.padEnd(36)} ${String(f.size).padStart(9)} bytes  ${f.type}`);
    report.push({ step: 'Fixture snaps', seconds: (Date.now() - started) / 1000, ok: true });

    const storePort = await freePort();
    console.log(`\n== Starting a throwaway coreforged with the embedded local store on 127.0.0.1:${storePort}`);
    started = Date.now();
    daemon = await startStoreDaemon(work, storePort, { COREFORGE_LOG_LEVEL: 'warn' });
    console.log(`coreforged is on ${daemon.socketPath}, state in ${daemon.stateDir}`);
    report.push({ step: 'Start coreforged', seconds: (Date.now() - started) / 1000, ok: true });

    await cli('Check the host tools', ['doctor']);

    const secrets = join(work, 'secrets');
    mkdirSync(secrets, { mode: 0o700 });
    writeFileSync(join(secrets, 'store-password'), 'demo-password-123\n', { mode: 0o600 });
    writeFileSync(join(secrets, 'key-passphrase'), 'demo-passphrase-456\n', { mode: 0o600 });
    const noBoot = whyNoBoot();
    const sshKey = join(secrets, 'id_ed25519');
    if (noBoot) writeFileSync(`${sshKey}.pub`, sshPublicKey('demo@coreforge') + '\n');
    // the boot logs in with the account's key: a real key pair, as ssh reads it
    else execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'demo@coreforge', '-f', sshKey]);
    const email = 'maker@example.com';

    await cli('A store account in the local store', [
      'store', 'account', 'add', email, '--username', 'maker', '--ssh-key', join(secrets, 'id_ed25519.pub'), '--password-file', join(secrets, 'store-password'),
    ]);
    await cli('Log in (SSO macaroon discharge)', ['login', email, '--password-file', join(secrets, 'store-password')]);
    const account = JSON.parse(await cli('Who am I', ['whoami', '--json'], { capture: true })) as Record<string, string>;
    const brandId = account['account-id'] ?? account.id ?? account.accountId;
    if (!brandId) throw new Error(`cannot find the account id in whoami --json: ${JSON.stringify(account)}`);
    console.log(`account id (the brand id of our models): ${brandId}`);

    await cli('Create a signing key (RSA-4096)', ['create-key', 'brand-key', '--passphrase-file', join(secrets, 'key-passphrase')]);
    await cli('Register it with the store account', ['register-key', 'brand-key', '--passphrase-file', join(secrets, 'key-passphrase')]);
    await cli('List keys', ['keys']);

    // A second after registration, so the model's timestamp is inside the key's validity.
    await new Promise((r) => setTimeout(r, 1100));
    const models: Record<string, string> = {};
    for (const name of ['my-pi3', 'coreforge-pc-20-dangerous']) {
      const jsonPath = join(work, `${name}.json`);
      writeFileSync(jsonPath, JSON.stringify(modelJSON(name, brandId, modelTimestamp(new Date())), null, 2));
      models[name] = join(work, `${name}.model`);
      await cli(`Sign the ${name} model`, ['sign', '-k', 'brand-key', '--passphrase-file', join(secrets, 'key-passphrase'), jsonPath], { stdoutTo: models[name] });
      console.log(readFileSync(models[name]!, 'utf8').split('\n\n')[0]);
    }
    await cli('Verify both models through the local store root', ['verify', ...Object.values(models)]);

    const artifacts: { volume: string; path: string; size: number; sha256: string }[] = [];
    for (const name of Object.keys(models)) {
      const out = join(work, 'images', name);
      const snaps = FIXTURE_MODELS[name]!.flatMap((id) => ['--snap', built[id]!.path]);
      await cli(`Build the ${name} image`, ['build', '-O', out, ...snaps, models[name]!]);
      const builds = JSON.parse(await cli('List builds', ['builds', '--json'], { capture: true })) as BuildInfo[];
      const id = builds.filter((b) => b['output-dir'] === out).at(-1)!.id;
      // The images' SHA-256 is computed after the build; wait for it.
      const info = JSON.parse(await cli(`Image digests of build ${id}`, ['builds', id, '--wait', '--json'], { capture: true })) as BuildInfo;
      for (const a of info.artifacts) {
        if (a.path.endsWith('.img')) artifacts.push({ volume: `${name}: ${a.name}`, path: a.path, size: a.size, sha256: a.sha256 ?? 'unknown' });
      }
    }

    const pcImage = artifacts.find((a) => a.volume.startsWith('coreforge-pc-20'));
    const isRoot = process.getuid?.() === 0;
    const hasLosetup = existsSync('/sbin/losetup') || existsSync('/usr/sbin/losetup');
    if (pcImage && isRoot && hasLosetup) {
      const backing = join(work, 'sdcard.raw');
      writeFileSync(backing, '');
      execFileSync('truncate', ['-s', String(Math.ceil(statSync(pcImage.path).size / 1048576 + 16) * 1048576), backing]);
      loop = execFileSync('losetup', ['-f', '--show', backing], { encoding: 'utf8' }).trim();
      await cli('Drives (loop devices shown for the demo)', ['drives', '--include-loop']);
      await cli(`Flash the pc image to ${loop} and verify it from the device`, ['flash', pcImage.path, loop, '--include-loop', '--yes']);
    } else {
      const why = !isRoot ? 'the demo is not running as root (loop devices need root)' : 'losetup is not available (Debian package mount)';
      console.log(`\n== Flash: skipped, ${why} (a loop device stands in for an SD card)`);
      report.push({ step: 'Flash', seconds: 0, ok: true, note: `skipped: ${why}` });
    }

    let boot: { prompt: number; ssh: number } | undefined;
    if (noBoot) {
      console.log(`\n== Boot the sample OS in qemu: skipped, ${noBoot}`);
      report.push({ step: 'Boot the sample OS', seconds: 0, ok: true, note: `skipped: ${noBoot}` });
    } else {
      boot = await demoBoot({
        work,
        storePort,
        email,
        sshKey,
        brandId,
        keyName: 'brand-key',
        passphraseFile: join(secrets, 'key-passphrase'),
        cli,
        record: (step, seconds, note) => report.push({ step, seconds, ok: true, ...(note ? { note } : {}) }),
        dim,
      });
    }

    console.log('\n== Report');
    for (const r of report) console.log(`${r.ok ? 'ok  ' : 'FAIL'}  ${r.seconds.toFixed(2).padStart(7)} s  ${r.step}${r.note ? ` (${r.note})` : ''}`);
    console.log('\nArtifacts (removed with the demo\'s temp dir):');
    for (const a of artifacts) console.log(`  ${a.volume}  ${(a.size / 1048576).toFixed(1)} MiB  sha256 ${a.sha256}`);
    if (boot) console.log(`\nThe sample OS booted: console-conf's prompt ${boot.prompt.toFixed(1)} s after qemu started, ssh login at ${boot.ssh.toFixed(1)} s.`);
    return 0;
  } catch (err) {
    console.error(`\ndemo: ${(err as Error).message}`);
    for (const r of report) console.error(`${r.ok ? 'ok  ' : 'FAIL'}  ${r.seconds.toFixed(2).padStart(7)} s  ${r.step}`);
    if (daemon) console.error(dim(daemon.logs().split('\n').slice(-15).join('\n')));
    return 1;
  } finally {
    if (loop) execFileSync('losetup', ['-d', loop]);
    await daemon?.stop();
    await tmp.cleanup();
  }
}

process.exitCode = await main();
