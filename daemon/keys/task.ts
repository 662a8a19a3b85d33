import type { TaskKind } from '../changes/engine.js';
import { keysError } from './errors.js';
import type { Keyring } from './keyring.js';
import type { PassphraseVault } from './passphrases.js';

/** Task kind name of key creation, as `coreforge changes` shows it. */
export const createKeyTaskKind = 'create-key';

/**
 * The task that generates a key: RSA-4096 takes seconds, so it runs as a
 * change with progress. Its data holds the key name and a vault token, never
 * the passphrase (task data is stored in sqlite).
 */
export function createKeyTask(keyring: Keyring, vault: PassphraseVault): TaskKind {
  return {
    name: createKeyTaskKind,
    concurrency: 2,
    async run(ctx) {
      const name = String(ctx.data.name);
      const passphrase = vault.take(ctx.data['passphrase-token']);
      if (passphrase === undefined) {
        throw keysError(
          'passphrase-required',
          `cannot create key ${JSON.stringify(name)}: its passphrase was held in memory only and is gone (coreforged restarted); run create-key again`,
        );
      }
      ctx.log('info', `creating key ${JSON.stringify(name)}`);
      const entry = await keyring.create(name, passphrase, (phase, done, total) => ctx.progress(phase, done, total, { unit: 'steps' }), ctx.signal);
      ctx.log('info', `created key ${JSON.stringify(name)} with SHA3-384 ${entry.id}`);
      return { name: entry.name, 'sha3-384': entry.id, created: entry.created };
    },
  };
}
