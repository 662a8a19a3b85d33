import { spawn } from 'node:child_process';
import { chmod, chown, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * A member of the `coreforge` group who is not root: the caller the daemon's
 * trust boundary is about. Tests run as root and act as this user through a
 * process started with its uid and gid (no other groups).
 */
export const member = { uid: 4242, gid: 4242 };

/** Lets `member` reach a test daemon's socket, as membership of group coreforge does on an installed system. */
export async function admitMember(socketPath: string): Promise<void> {
  for (let dir = dirname(socketPath); dir !== '/' && dir !== '/tmp'; dir = dirname(dir)) await chmod(dir, 0o755);
  await chown(socketPath, 0, member.gid);
}

/** A directory owned by `member` (its home for the test's files). */
export async function memberDir(path: string): Promise<string> {
  await mkdir(path, { recursive: true });
  await chown(path, member.uid, member.gid);
  await chmod(path, 0o755);
  return path;
}

export interface ApiReply {
  status: number;
  body: { type: string; result?: unknown; change?: string; 'status-code': number };
}

/** Node code that sends one request over the Unix socket and prints status and body. */
const requestScript = `
const http = require('node:http');
const [socketPath, method, path, body] = process.argv.slice(1);
const req = http.request({ socketPath, method, path, headers: body ? { 'Content-Type': 'application/json' } : {} }, (res) => {
  let text = '';
  res.setEncoding('utf8');
  res.on('data', (d) => (text += d));
  res.on('end', () => process.stdout.write(JSON.stringify({ status: res.statusCode, body: JSON.parse(text) })));
});
req.on('error', (err) => { process.stderr.write(err.message); process.exit(3); });
req.end(body || undefined);
`;

/** One API request made by a process running as `who` (default: `member`): the daemon sees that uid through the socket. */
export function apiAs(socketPath: string, method: string, path: string, body?: unknown, who = member): Promise<ApiReply> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['-e', requestScript, socketPath, method, path, body === undefined ? '' : JSON.stringify(body)], {
      uid: who.uid,
      gid: who.gid,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
    proc.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`request as uid ${who.uid} failed (${code}): ${err}`));
      resolve(JSON.parse(out) as ApiReply);
    });
  });
}

/** Runs a command as `member`; resolves with its exit code and output. */
export function runAs(command: string, args: string[], who = member): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const proc = spawn(command, args, { uid: who.uid, gid: who.gid, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    proc.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}
