import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { after, before } from 'node:test';
import type { ChangeInfo } from '../../daemon/api/types.js';
import { Transport } from '../../client/transport.js';
import { makeTempDir } from './tmp.js';

export const repoRoot = resolve(import.meta.dirname, '..', '..');
/** The daemon entry used by most tests: the real one plus test-only task kinds. */
export const testDaemonEntry = join(repoRoot, 'test/helpers/test-daemon.ts');
export const realDaemonEntry = join(repoRoot, 'daemon/main.ts');
/** The daemon as installed: the compiled JavaScript (\`npm run build\`), run by plain node. */
export const builtDaemonEntry = join(repoRoot, 'dist/daemon/main.js');
export const cliEntry = join(repoRoot, 'client/main.ts');

export interface DaemonProcess {
  socketPath: string;
  stateDir: string;
  proc: ChildProcess;
  /** Everything the daemon wrote on stderr so far. */
  logs(): string;
  transport: Transport;
  /** Resolves with the exit code (or signal name) once the process is gone. */
  exited: Promise<number | string>;
  /** SIGTERM and wait for exit. */
  stop(): Promise<number | string>;
  /** kill -9, as a crash. */
  crash(): Promise<number | string>;
}

export interface SpawnOptions {
  socketPath: string;
  stateDir: string;
  entry?: string;
  env?: NodeJS.ProcessEnv;
  extraArgs?: string[];
  /** Run as this uid/gid (tests of permission errors when running as root). */
  uid?: number;
  gid?: number;
}

/** Polls a change every `intervalMs` until it is ready, and returns it. */
export async function waitChangeReady(transport: Transport, id: string, intervalMs = 50): Promise<ChangeInfo> {
  for (;;) {
    const change = await transport.call<ChangeInfo>('GET', `/v1/changes/${id}`);
    if (change.ready) return change;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Starts coreforged as its own process without waiting for it to be ready. */
export function spawnDaemon(opts: SpawnOptions): DaemonProcess {
  const proc = spawn(
    process.execPath,
    [...(opts.entry?.endsWith('.js') ? [] : ['--import', 'tsx']), opts.entry ?? testDaemonEntry, '--socket', opts.socketPath, '--state-dir', opts.stateDir, ...(opts.extraArgs ?? [])],
    {
      cwd: repoRoot,
      env: { ...process.env, COREFORGE_LOG_LEVEL: 'debug', ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(opts.uid !== undefined ? { uid: opts.uid, gid: opts.gid } : {}),
    },
  );
  let output = '';
  proc.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  proc.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | string>((resolve) => proc.on('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  const transport = new Transport(opts.socketPath);
  return {
    socketPath: opts.socketPath,
    stateDir: opts.stateDir,
    proc,
    logs: () => output,
    transport,
    exited,
    stop: async () => {
      transport.close();
      proc.kill('SIGTERM');
      return exited;
    },
    crash: async () => {
      transport.close();
      proc.kill('SIGKILL');
      return exited;
    },
  };
}

/** Starts coreforged and waits until it answers on its socket. */
export async function startDaemon(opts: SpawnOptions, timeoutMs = 20_000): Promise<DaemonProcess> {
  const daemon = spawnDaemon(opts);
  const deadline = Date.now() + timeoutMs;
  let exitedEarly: number | string | undefined;
  void daemon.exited.then((code) => (exitedEarly = code));
  for (;;) {
    if (exitedEarly !== undefined) throw new Error(`coreforged exited with ${exitedEarly} before answering:\n${daemon.logs()}`);
    try {
      await daemon.transport.call('GET', '/v1/system-info');
      return daemon;
    } catch {
      if (Date.now() > deadline) {
        daemon.proc.kill('SIGKILL');
        throw new Error(`coreforged did not answer on ${opts.socketPath} within ${timeoutMs} ms:\n${daemon.logs()}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/**
 * The real coreforged (daemon/main.ts) in `work`, offline, serving its
 * embedded store on 127.0.0.1:storePort: what the demo, the boot test and
 * bench/boot journey through.
 */
export function startStoreDaemon(work: string, storePort: number, env: Record<string, string> = {}): Promise<DaemonProcess> {
  return startDaemon({
    entry: realDaemonEntry,
    socketPath: join(work, 'coreforge.socket'),
    stateDir: join(work, 'state'),
    extraArgs: ['--offline', '--store-listen', `127.0.0.1:${storePort}`],
    env,
  });
}

/** Runs the coreforge CLI as a process and collects its output. */
export function runCli(
  args: string[],
  opts: { socketPath?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; as?: { uid: number; gid: number } } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', cliEntry, ...args], {
      cwd: repoRoot,
      env: { ...process.env, ...(opts.socketPath ? { COREFORGE_SOCKET: opts.socketPath } : {}), ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(opts.as ? { uid: opts.as.uid, gid: opts.as.gid } : {}),
    });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`coreforge ${args.join(' ')} timed out\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, opts.timeoutMs ?? 30_000);
    proc.on('exit', (code) => {
      clearTimeout(timer);
      resolvePromise({ code: code ?? -1, stdout, stderr });
    });
  });
}

/**
 * One coreforged for a whole describe block: started in `before` in a fresh
 * temp dir, stopped and cleaned in `after`. Returns getters for the daemon and
 * its temp dir (valid inside tests).
 */
export function useDaemon(options: Partial<SpawnOptions> = {}): { daemon(): DaemonProcess; dir(): string } {
  let daemon: DaemonProcess | undefined;
  let tmp: { dir: string; cleanup(): Promise<void> } | undefined;
  before(async () => {
    tmp = await makeTempDir();
    daemon = await startDaemon({ socketPath: join(tmp.dir, 'coreforge.sock'), stateDir: join(tmp.dir, 'state'), ...options });
  });
  after(async () => {
    await daemon?.stop();
    await tmp?.cleanup();
  });
  return { daemon: () => daemon!, dir: () => tmp!.dir };
}
