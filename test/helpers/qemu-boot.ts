/**
 * Boots an image with scripts/boot (qemu, OVMF, the restricted user network)
 * and hands back its serial console and forwarded SSH port. What the boot
 * test, the demo and bench/boot.ts share; the guest-side flows are in
 * guest-flow.ts.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './daemon.js';
import { freePort } from './net.js';
import { SerialConsole } from './serial-console.js';

export const bootScript = join(repoRoot, 'scripts/boot');
export const ovmfPath = process.env.COREFORGE_OVMF ?? '/usr/share/ovmf/OVMF.fd';

function onPath(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v "$1" >/dev/null`, 'sh', tool]).status === 0;
}

/** A command the boot needs and the Debian package that provides it. */
export type Tool = [command: string, debianPackage: string];

/**
 * What this machine lacks to build the sample OS, boot it and log in (plus
 * EXTRA tools a caller needs), each with the Debian package that provides it;
 * empty when nothing is missing.
 */
export function missingForBoot(extra: Tool[] = []): string[] {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push('root (sample-os/build runs mmdebstrap, as root)');
  const tools: Tool[] = [
    ['qemu-system-x86_64', 'qemu-system-x86'],
    ['nc', 'netcat-openbsd'],
    ['ssh', 'openssh-client'],
    ['ssh-keygen', 'openssh-client'],
    ['mmdebstrap', 'mmdebstrap'],
    ...extra,
  ];
  for (const [tool, pkg] of tools) if (!onPath(tool)) missing.push(`${tool} (Debian package ${pkg})`);
  if (!existsSync(ovmfPath)) missing.push(`${ovmfPath} (Debian package ovmf)`);
  return missing;
}

export interface BootOptions {
  image: string;
  /** Directory for the serial socket and log (the test's temp dir). */
  dir: string;
  /** Names the socket and the log: DIR/NAME.serial.sock, DIR/NAME.serial.log. */
  name: string;
  storePort: number;
  /** tcg unless told: tests and the bench must not depend on KVM. */
  accel?: 'tcg' | 'kvm' | 'auto';
}

export interface GuestBoot {
  console: SerialConsole;
  sshPort: number;
  /** The serial console's Unix socket, and the file its output is saved in. */
  serialPath: string;
  logPath: string;
  /** performance.now() when qemu was started. */
  startedAt: number;
  /** What qemu (and scripts/boot) wrote on stderr so far. */
  stderr(): string;
  /** Resolves once qemu has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Waits for qemu to end by itself (the guest powered off); kills it and throws after TIMEOUTMS. */
  waitForPowerOff(timeoutMs: number): Promise<void>;
  /** Ends qemu (SIGTERM, then SIGKILL) and closes the console; the log stays. */
  stop(): Promise<void>;
}

/** Starts qemu on IMAGE through scripts/boot and connects to its serial console. */
export async function bootImage(opts: BootOptions): Promise<GuestBoot> {
  const sshPort = await freePort();
  const serialPath = join(opts.dir, `${opts.name}.serial.sock`);
  const logPath = join(opts.dir, `${opts.name}.serial.log`);
  const startedAt = performance.now();
  // scripts/boot execs qemu: this process is qemu once the checks pass, and signals reach it
  const proc = spawn(
    'bash',
    [bootScript, opts.image, '--serial', serialPath, '--ssh-port', String(sshPort), '--store-port', String(opts.storePort), '--accel', opts.accel ?? 'tcg'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  let gone = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.on('exit', (code, signal) => {
      gone = true;
      resolve({ code, signal });
    }),
  );
  /** How qemu ended, once it has (the console closes a moment before the process is reaped). */
  const whyClosed = async () => {
    let timer: NodeJS.Timeout | undefined;
    const r = await Promise.race([exited, new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), 3_000)))]);
    clearTimeout(timer);
    if (!r) return 'qemu closed it but is still running';
    const how = r.signal ? `signal ${r.signal}` : `exit code ${r.code}`;
    return `qemu ended (${how})${stderr.trim() ? `: ${stderr.trim()}` : ''}`;
  };
  const early = new AbortController();
  void exited.then(() => early.abort());

  let serial: SerialConsole;
  try {
    serial = await SerialConsole.connect(serialPath, { logPath, startedAt, signal: early.signal, whyClosed });
  } catch (err) {
    if (!gone) proc.kill('SIGKILL');
    const { code } = await exited;
    throw new Error(`cannot boot ${opts.image}: scripts/boot exited with ${code} before its serial console came up: ${stderr.trim() || (err as Error).message}`);
  }

  const stop = async () => {
    if (!gone) {
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    await serial.close();
  };
  return {
    console: serial,
    sshPort,
    serialPath,
    logPath,
    startedAt,
    stderr: () => stderr,
    exited,
    stop,
    waitForPowerOff: async (timeoutMs) => {
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
      const result = await Promise.race([exited, timedOut]);
      clearTimeout(timer);
      if (result === 'timeout') {
        await stop();
        throw new Error(`the guest did not power off within ${Math.round(timeoutMs / 1000)} s (qemu was killed); the whole serial log is in ${logPath}`);
      }
      await serial.close();
    },
  };
}
