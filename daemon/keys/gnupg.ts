import { spawn } from 'node:child_process';
import { keysError } from './errors.js';

/** Runs a program with stdin input; injected so tests and other hosts can replace gpg. */
export type RunProgram = (
  file: string,
  args: string[],
  input: string,
  signal?: AbortSignal,
) => Promise<{ code: number | null; stdout: string; stderr: string }>;

/** The default RunProgram: a child process, no shell. */
export const runProgram: RunProgram = (file, args, input, signal) =>
  new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'], signal, env: { ...process.env, LC_ALL: 'C' } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.on('error', () => {});
    child.stdin.end(input);
  });

/**
 * Exports a secret key from a gnupg home (snapd keeps its keys in ~/.snap/gnupg)
 * as armored text, passing the passphrase on stdin with loopback pinentry so no
 * agent dialog ever opens. The passphrase never appears in arguments or errors.
 */
export async function exportFromGnupg(
  home: string,
  name: string,
  passphrase: string,
  run: RunProgram = runProgram,
  signal?: AbortSignal,
): Promise<string> {
  let result;
  try {
    result = await run(
      'gpg',
      ['--homedir', home, '--batch', '--no-tty', '--pinentry-mode', 'loopback', '--passphrase-fd', '0', '--armor', '--export-secret-keys', name],
      `${passphrase}\n`,
      signal,
    );
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw keysError(
      'key-import-failed',
      e.code === 'ENOENT'
        ? 'cannot import from gnupg: gpg is not installed; install the Debian package gnupg or export the key yourself and use --file'
        : `cannot import from gnupg: ${e.message}`,
    );
  }
  const stderr = result.stderr.trim();
  if (/bad passphrase|no passphrase given|passphrase.*(wrong|invalid)/i.test(stderr)) {
    throw keysError('wrong-passphrase', `cannot import key ${JSON.stringify(name)} from gnupg home ${home}: wrong passphrase; give the passphrase that protects it in that keyring`);
  }
  if (result.code !== 0 || !result.stdout.includes('-----BEGIN PGP PRIVATE KEY BLOCK-----')) {
    const why = stderr.split('\n').filter(Boolean).slice(-1)[0] ?? `gpg exited with ${result.code}`;
    throw keysError(
      'key-not-found',
      `cannot find key named ${JSON.stringify(name)} in gnupg home ${home}: ${why}; list its keys with "gpg --homedir ${home} --list-secret-keys"`,
    );
  }
  return result.stdout;
}
