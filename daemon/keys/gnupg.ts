import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keysError } from './errors.js';
import { copyGnupgKeyring } from './gnupg-home.js';

/** What a RunProgram child gets: its stdin text and its whole environment (nothing is inherited). */
export interface RunOptions {
  input: string;
  env: Record<string, string>;
  signal?: AbortSignal;
}

/** Runs a program; injected so tests and other hosts can replace gpg. */
export type RunProgram = (file: string, args: string[], options: RunOptions) => Promise<{ code: number | null; stdout: string; stderr: string }>;

/** The default RunProgram: a child process, no shell, exactly the environment given. */
export const runProgram: RunProgram = (file, args, { input, env, signal }) =>
  new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'], signal, env });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.on('error', () => {});
    child.stdin.end(input);
  });

export interface GnupgExport {
  /** the gnupg home named by the request: only its keyring files are read */
  home: string;
  /** the key's user id or fingerprint in that home */
  name: string;
  passphrase: string;
  /** a directory only coreforged can write (STATE/keys), where the private copy of the home is made */
  scratchDir: string;
  run?: RunProgram;
  signal?: AbortSignal;
}

/** gpg-agent puts its sockets in the home; sun_path holds 107 bytes and the longest name is S.gpg-agent.browser. */
const maxSocketPath = 107;
const scratchPrefix = '.gnupg-import-';
/** The name mkdtemp gives a scratch home inside a directory. */
export const isScratchHome = (name: string) => name.startsWith(scratchPrefix);

/** A fresh 0700 directory for the private copy, short enough for gpg-agent's socket paths. */
async function makeScratchHome(scratchDir: string): Promise<string> {
  const fits = (dir: string) => Buffer.byteLength(join(dir, `${scratchPrefix}XXXXXX`, 'S.gpg-agent.browser')) <= maxSocketPath;
  // a state dir with a long path: the system temp dir instead (mkdtemp makes it 0700, under a name no one else can take)
  return mkdtemp(join(fits(scratchDir) ? scratchDir : tmpdir(), scratchPrefix));
}

/**
 * The whole environment gpg and the gpg-agent it starts get: a fixed PATH, the
 * private home, C messages (they are matched below). Nothing of the daemon's
 * environment (GPG_AGENT_INFO, GNUPGHOME...) reaches them.
 */
function gpgEnv(home: string): Record<string, string> {
  return { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', GNUPGHOME: home, HOME: home, LC_ALL: 'C' };
}

/**
 * Exports a secret key from a gnupg home (snapd keeps its keys in ~/.snap/gnupg)
 * as armored text. gpg runs as root, and a gnupg home's configuration runs
 * programs (gpg.conf's agent-program, gpg-agent.conf...): so gpg never sees
 * the caller's home. Its keyring files are copied into a fresh private
 * directory and gpg runs there with --no-options, in a clean environment,
 * starting the default gpg-agent for that directory; the directory and its
 * agent are gone when this returns. The passphrase goes on stdin with loopback
 * pinentry (no agent dialog) and never appears in arguments or errors.
 */
export async function exportFromGnupg(options: GnupgExport): Promise<string> {
  const { home, name, passphrase, signal } = options;
  const run = options.run ?? runProgram;
  const scratch = await makeScratchHome(options.scratchDir);
  const env = gpgEnv(scratch);
  try {
    await copyGnupgKeyring(home, scratch, `import key ${JSON.stringify(name)}`);
    let result;
    try {
      result = await run(
        'gpg',
        ['--no-options', '--homedir', scratch, '--batch', '--no-tty', '--pinentry-mode', 'loopback', '--passphrase-fd', '0', '--armor', '--export-secret-keys', '--', name],
        { input: `${passphrase}\n`, env, signal },
      );
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code === 'ENOENT') {
        throw keysError('tool-missing', 'cannot import from gnupg: gpg is not installed; install the Debian package gnupg or export the key yourself and use --file', { tool: 'gpg', package: 'gnupg' });
      }
      throw keysError('key-import-failed', `cannot import from gnupg: ${e.message}`);
    }
    const stderr = result.stderr.trim();
    if (/bad passphrase|no passphrase given|passphrase.*(wrong|invalid)/i.test(stderr)) {
      throw keysError('wrong-passphrase', `cannot import key ${JSON.stringify(name)} from gnupg home ${home}: wrong passphrase; give the passphrase that protects it in that keyring`);
    }
    if (result.code !== 0 || !result.stdout.includes('-----BEGIN PGP PRIVATE KEY BLOCK-----')) {
      const why = (stderr.split('\n').filter(Boolean).slice(-1)[0] ?? `gpg exited with ${result.code}`).replaceAll(scratch, home);
      throw keysError(
        'key-not-found',
        `cannot find key named ${JSON.stringify(name)} in gnupg home ${home}: ${why}; list its keys with "gpg --homedir ${home} --list-secret-keys"`,
      );
    }
    return result.stdout;
  } finally {
    // stop exactly the agent of the private home, then remove the home (sockets included)
    await run('gpgconf', ['--homedir', scratch, '--kill', 'gpg-agent'], { input: '', env }).catch(() => {});
    await rm(scratch, { recursive: true, force: true });
  }
}
