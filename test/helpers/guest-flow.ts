/**
 * The sample OS's boot as seen on its serial console, stage by stage, and
 * console-conf's serial (basic mode) screens answered the way a person would:
 * Enter on the welcome screen, Enter on the network screen, the store
 * account's email at "Email:". Each stage has its own timeout, so a failure
 * names where the boot stopped. Times are seconds since qemu started.
 */
import type { SerialConsole } from './serial-console.js';

/** The stages every boot of the sample OS goes through, up to the hand-over to systemd. */
const earlyStages = [
  // OVMF and grub take ~12 s under TCG on 2 cores; the kernel banner ends them
  { stage: 'firmware and grub', pattern: /Linux version \d/, timeoutMs: 120_000 },
  // the sample initramfs says this last, just before switch_root (20-29 s after start)
  { stage: 'kernel and initramfs', pattern: /coreforge-initramfs: starting \S+ from \S+/, timeoutMs: 120_000 },
] as const;

/** systemd and node starting console-conf on two consoles: ~50 s under TCG, twice that on a loaded host. */
const systemdTimeoutMs = 300_000;
/** A console-conf screen after an answer (network scan, SSO lookup and user creation included). */
const screenTimeoutMs = 90_000;

export interface EarlyTimes {
  kernel: number;
  systemd: number;
}

/** Told each stage's end as it happens: what was reached, seconds since qemu started (the demo prints them). */
export type OnMilestone = (reached: string, seconds: number) => void;

/** Follows firmware, grub, kernel and initramfs until systemd gets the root. */
export async function bootToSystemd(c: SerialConsole, onMilestone?: OnMilestone): Promise<EarlyTimes> {
  const times: number[] = [];
  for (const s of earlyStages) {
    await c.expect(s.pattern, { stage: s.stage, timeoutMs: s.timeoutMs });
    times.push(c.elapsed());
    onMilestone?.(s.stage === 'firmware and grub' ? 'the kernel' : 'systemd', c.elapsed());
  }
  return { kernel: times[0]!, systemd: times[1]! };
}

/** Waits for console-conf's welcome prompt on the serial console. */
export async function untilConsoleConf(c: SerialConsole, onMilestone?: OnMilestone): Promise<EarlyTimes & { prompt: number }> {
  const early = await bootToSystemd(c, onMilestone);
  await c.expect(/Press Enter to configure\./, { stage: 'systemd to console-conf', timeoutMs: systemdTimeoutMs });
  onMilestone?.("console-conf's prompt", c.elapsed());
  return { ...early, prompt: c.elapsed() };
}

/** Waits for getty's login prompt (a second boot, once console-conf has completed); fails at once if console-conf runs instead. */
export async function untilLoginPrompt(c: SerialConsole, onMilestone?: OnMilestone): Promise<EarlyTimes & { login: number }> {
  const early = await bootToSystemd(c, onMilestone);
  const stage = 'systemd to the getty login prompt';
  const m = await c.expect(/^[\w.-]+ login: |Press Enter to configure\./m, { stage, timeoutMs: systemdTimeoutMs });
  if (m[0].startsWith('Press Enter')) throw c.fail('fatal-sign', stage, 'console-conf runs again instead of getty (is /var/lib/console-conf/complete on writable?)', m[0]);
  onMilestone?.("getty's login prompt", c.elapsed());
  return { ...early, login: c.elapsed() };
}

export interface LoginDetails {
  /** The user console-conf created. */
  user: string;
  /** The addresses of the `ssh USER@ADDRESS` lines. */
  addresses: string[];
  /** The done screen's text, from "To log in" to its last line. */
  screen: string;
}

// Prompts are printed before console-conf listens for the answer; a short pause keeps a fast answer from racing it.
const settle = () => new Promise((r) => setTimeout(r, 400));

/** Reads the done screen (interactive or first-boot) up to its last prompt. */
async function doneScreen(c: SerialConsole, stage: string): Promise<LoginDetails> {
  // the title varies ("Done - the device is ready", or "Another console finished the setup" on the consoles that waited)
  const m = await c.expect(/^(To log in, run this on a computer that has the private key:\n[\s\S]*?)-*\nPress Enter to continue to the login prompt\.|^Email: /m, { stage, timeoutMs: screenTimeoutMs });
  if (m[0].startsWith('Email:')) {
    // console-conf asks again when it cannot use the answer; the problem is on the screen above
    const problem = c.output().slice(0, m.index).trimEnd().split('\n').slice(-6).join('\n');
    throw c.fail('fatal-sign', stage, `console-conf asked for the email again:\n${problem}\n`, problem);
  }
  const screen = m[1]!;
  const logins = [...screen.matchAll(/^\s+ssh ([a-z0-9][-a-z0-9+._]*)@(\S+)$/gm)];
  if (logins.length === 0) {
    throw c.fail('fatal-sign', stage, `the done screen shows no "ssh USER@ADDRESS" line:\n${screen}\n`, screen);
  }
  return { user: logins[0]![1]!, addresses: logins.map((l) => l[2]!), screen };
}

/** Answers console-conf's serial screens as its owner would; call once the welcome prompt is up. */
export async function answerConsoleConf(c: SerialConsole, email: string): Promise<LoginDetails> {
  await settle();
  c.send('\r');
  await c.expect(/^Choice: /m, { stage: 'console-conf network screen', timeoutMs: screenTimeoutMs });
  await settle();
  c.send('\r');
  await c.expect(/^Email: /m, { stage: 'console-conf identity screen', timeoutMs: screenTimeoutMs });
  await settle();
  c.send(`${email}\r`);
  return doneScreen(c, 'console-conf creating the user');
}

/** Waits for console-conf to follow a first-boot file and show the login details, typing nothing. */
export async function untilUnattendedDone(c: SerialConsole): Promise<EarlyTimes & { done: number; details: LoginDetails }> {
  const early = await bootToSystemd(c);
  await c.expect(/Following the first-boot file/, { stage: 'systemd to console-conf (first-boot file)', timeoutMs: systemdTimeoutMs });
  const details = await doneScreen(c, 'console-conf following the first-boot file');
  return { ...early, done: c.elapsed(), details };
}
