/**
 * ssh into a booted guest through qemu's forwarded port on 127.0.0.1, with
 * one private key and nothing else from the caller's ssh setup (no config
 * file, no agent keys, no known_hosts: each image makes its host key at first
 * boot).
 */
import { spawn } from 'node:child_process';

export interface SshTarget {
  port: number;
  user: string;
  /** Path of the private key. */
  key: string;
}

export interface SshResult {
  code: number;
  stdout: string;
  stderr: string;
}

function sshArgs(t: SshTarget): string[] {
  return [
    '-F', '/dev/null',
    '-i', t.key,
    '-p', String(t.port),
    '-o', 'IdentitiesOnly=yes',
    '-o', 'IdentityAgent=none',
    '-o', 'StrictHostKeyChecking=no',
    '-o', 'UserKnownHostsFile=/dev/null',
    '-o', 'BatchMode=yes',
    '-o', 'ConnectTimeout=20',
    '-o', 'LogLevel=ERROR',
    `${t.user}@127.0.0.1`,
  ];
}

/** Runs COMMAND (one shell line) in the guest; resolves with its exit code and output, 255 for ssh's own failures. */
export function sshRun(t: SshTarget, command: string, timeoutMs = 60_000): Promise<SshResult> {
  return new Promise((resolve) => {
    const proc = spawn('ssh', [...sshArgs(t), command], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      stderr += `\n(ssh killed after ${timeoutMs} ms)`;
      proc.kill('SIGKILL');
    }, timeoutMs);
    proc.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 255, stdout, stderr });
    });
  });
}

/**
 * Retries `true` over ssh until it works (sshd may still be starting, or
 * making its host key) and returns the number of attempts; throws with ssh's
 * last error after TIMEOUTMS.
 */
export async function waitForSsh(t: SshTarget, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 1; ; attempt++) {
    const r = await sshRun(t, 'true', Math.max(5_000, deadline - Date.now()));
    if (r.code === 0) return attempt;
    if (Date.now() > deadline) {
      throw new Error(`cannot log in as ${t.user} over ssh on 127.0.0.1:${t.port} with ${t.key} within ${Math.round(timeoutMs / 1000)} s (${attempt} attempts): ${r.stderr.trim() || `exit ${r.code}`}`);
    }
    await new Promise((r) => setTimeout(r, 1_000));
  }
}
