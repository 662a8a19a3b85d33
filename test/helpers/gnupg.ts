import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

/** A gnupg home with one RSA key made by `gpg --batch --gen-key`, as snapd's create-key makes them. */
export function makeGnupgHome(parent: string, opts: { name: string; passphrase: string; bits?: number }): { home: string; dispose(): void } {
  const home = join(parent, `gnupg-${opts.name}`);
  mkdirSync(home, { mode: 0o700 });
  const params = [
    'Key-Type: RSA',
    `Key-Length: ${opts.bits ?? 2048}`,
    `Name-Real: ${opts.name}`,
    'Creation-Date: seconds=1451606400',
    'Preferences: SHA512',
    `Passphrase: ${opts.passphrase}`,
    '%commit',
    '',
  ].join('\n');
  execFileSync('gpg', ['--homedir', home, '--batch', '--gen-key'], { input: params, stdio: ['pipe', 'ignore', 'ignore'] });
  return {
    home,
    // gpg leaves an agent running for the home: stop exactly that one
    dispose: () => void spawnSync('gpgconf', ['--homedir', home, '--kill', 'gpg-agent'], { stdio: 'ignore' }),
  };
}

/** The public key gpg exports for a name (binary). */
export function gpgExportPublic(home: string, name: string): Buffer {
  return execFileSync('gpg', ['--homedir', home, '--batch', '--export', name]);
}
