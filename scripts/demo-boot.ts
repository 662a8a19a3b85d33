/**
 * The demo's boot: the sample device OS (sample-os/) put in the demo's
 * embedded store, its UC18 pc model signed with the demo's brand key, the
 * image built from the store (offline), booted with scripts/boot (qemu,
 * OVMF, a user network that reaches only the store server), console-conf
 * answered over the serial console with the demo's store account, and an ssh
 * login with that account's key. qemu is stopped before this returns.
 */
import { copyFileSync, existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { repoRoot } from '../test/helpers/daemon.js';
import { answerConsoleConf, untilConsoleConf } from '../test/helpers/guest-flow.js';
import { sshRun, waitForSsh } from '../test/helpers/guest-ssh.js';
import { bootImage, type GuestBoot } from '../test/helpers/qemu-boot.js';
import { buildSampleImage, buildSampleOs, sampleModelName, sampleSnapChannel, signSampleModel } from '../test/helpers/sample-image.js';

export interface DemoBootContext {
  work: string;
  storePort: number;
  email: string;
  /** The store account's private SSH key (its public half is in the account). */
  sshKey: string;
  brandId: string;
  keyName: string;
  passphraseFile: string;
  /** The demo's CLI step: prints the command, records it in the report. */
  cli: (title: string, args: string[], opts?: { capture?: boolean }) => Promise<string>;
  /** Adds a line to the demo's report. */
  record: (step: string, seconds: number, note?: string) => void;
  dim: (text: string) => string;
}

/** Builds and boots the sample OS image; returns seconds from qemu start to console-conf's prompt and to the ssh login. */
export async function demoBoot(ctx: DemoBootContext): Promise<{ prompt: number; ssh: number }> {
  console.log('\n== The sample device OS: bash sample-os/build (Debian parts; cached in .cache/sample-os, a few minutes the first time)');
  const sample = await buildSampleOs({ onLog: (text) => process.stdout.write(ctx.dim(text)) });
  for (const s of sample.snaps) console.log(`  ${relative(repoRoot, s).padEnd(52)} ${String(statSync(s).size).padStart(10)} bytes`);
  ctx.record('Sample OS snaps (sample-os/build)', sample.seconds);

  const byChannel = new Map<string, string[]>();
  for (const s of sample.snaps) byChannel.set(sampleSnapChannel(s), [...(byChannel.get(sampleSnapChannel(s)) ?? []), s]);
  for (const [channel, files] of byChannel) {
    await ctx.cli(`Put ${files.map((f) => basename(f, '.snap')).join(' and ')} in the embedded store (${channel})`, ['store', 'add', ...files, '--channel', channel]);
  }
  const model = await signSampleModel((args) => ctx.cli(`Sign the ${sampleModelName} model (UC18 pc: the sample OS)`, args, { capture: true }), {
    dir: ctx.work,
    brandId: ctx.brandId,
    keyName: ctx.keyName,
    passphraseFile: ctx.passphraseFile,
  });
  const image = await buildSampleImage((args) => ctx.cli('Build the sample OS image from the embedded store (offline)', args), { model, out: join(ctx.work, 'images', sampleModelName) });

  console.log('\n== Boot it in qemu: OVMF, grub, the kernel snap, systemd, console-conf on the serial console');
  console.log(ctx.dim('   the guest reaches only the store server (guestfwd 10.0.2.100:80 -> 127.0.0.1:' + ctx.storePort + '); TCG without KVM: about 1.5 minutes to the prompt'));
  let guest: GuestBoot | undefined;
  try {
    guest = await bootImage({ image, dir: ctx.work, name: 'demo', storePort: ctx.storePort, accel: 'auto' });
    console.log(`$ bash scripts/boot ${image} --serial ${guest.serialPath} --ssh-port ${guest.sshPort} --store-port ${ctx.storePort}`);
    const times = await untilConsoleConf(guest.console, (reached, seconds) => console.log(`  ${seconds.toFixed(1).padStart(6)} s  ${reached}`));
    console.log(`  console-conf: Enter (welcome), Enter (network: keep DHCP), "${ctx.email}" at Email:`);
    const details = await answerConsoleConf(guest.console, ctx.email);
    console.log(`  ${guest.console.elapsed().toFixed(1).padStart(6)} s  the done screen:`);
    for (const line of details.screen.trimEnd().split('\n')) console.log(ctx.dim(`           | ${line}`));
    const target = { port: guest.sshPort, user: details.user, key: ctx.sshKey };
    await waitForSsh(target, 120_000);
    const ssh = guest.console.elapsed();
    console.log(`  ${ssh.toFixed(1).padStart(6)} s  ssh login works`);
    console.log(`$ ssh -i ${ctx.sshKey} -p ${guest.sshPort} ${details.user}@127.0.0.1 'id; sudo -n true && echo sudo works'`);
    const r = await sshRun(target, 'id; sudo -n true && echo sudo works');
    process.stdout.write(r.stdout);
    if (r.code !== 0) throw new Error(`cannot run id and sudo over ssh (exit ${r.code}): ${r.stderr.trim()}`);
    ctx.record('Boot: qemu start to console-conf prompt', times.prompt);
    ctx.record('Boot: qemu start to ssh login', ssh);
    return { prompt: times.prompt, ssh };
  } catch (err) {
    // the demo's temp dir goes: keep the serial log where the message says
    if (guest && existsSync(guest.logPath)) {
      const kept = join(tmpdir(), `coreforge-demo-serial-${process.pid}.log`);
      copyFileSync(guest.logPath, kept);
      const message = (err as Error).message;
      throw new Error(message.includes(guest.logPath) ? message.replaceAll(guest.logPath, kept) : `${message}; the whole serial log is in ${kept}`);
    }
    throw err;
  } finally {
    await guest?.stop();
  }
}
