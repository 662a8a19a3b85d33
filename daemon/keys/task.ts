import type { ChangeEngine, TaskKind } from '../changes/engine.js';
import { dataObject, stringField } from '../changes/task-data.js';
import type { ChangeOwner } from '../changes/types.js';
import { keysError } from './errors.js';
import { checkPassphrase, type Keyring } from './keyring.js';
import type { PassphraseVault } from './passphrases.js';

/** Task kind name of key creation, as `coreforge changes` shows it. */
export const createKeyTaskKind = 'create-key';

/** What a key creation keeps in state.db: the key's name and the vault token of its passphrase, never the passphrase. */
export interface CreateKeyData {
  name: string;
  'passphrase-token': string;
}

/** Checks a key creation's data (the keyring checks the name again when it creates the key). */
export function parseCreateKeyData(data: unknown): CreateKeyData {
  const d = dataObject(data);
  return { name: stringField(d, 'name'), 'passphrase-token': stringField(d, 'passphrase-token') };
}

/**
 * The task that generates a key: RSA-4096 takes seconds, so it runs as a
 * change with progress. Its data holds the key name and a vault token, never
 * the passphrase (task data is stored in sqlite).
 */
export function createKeyTask(keyring: Keyring, vault: PassphraseVault): TaskKind<CreateKeyData> {
  return {
    name: createKeyTaskKind,
    concurrency: 2,
    parseData: parseCreateKeyData,
    async run(ctx) {
      const { name } = ctx.data;
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

/**
 * Starts creating a key as a change owned by `owner`; returns the change id.
 * The name and passphrase are checked now, so a taken name fails the request
 * rather than the change; the passphrase waits in the vault for the task.
 */
export async function startCreateKey(
  deps: { engine: Pick<ChangeEngine, 'create'>; keyring: Keyring; vault: PassphraseVault },
  owner: ChangeOwner,
  requestedName: unknown,
  requestedPassphrase: unknown,
): Promise<string> {
  const name = await deps.keyring.checkNewName(requestedName);
  const passphrase = checkPassphrase(requestedPassphrase, `create key ${JSON.stringify(name)}`);
  const token = deps.vault.put(passphrase);
  try {
    return await deps.engine.create({
      owner,
      kind: createKeyTaskKind,
      summary: `Create key ${JSON.stringify(name)}`,
      data: { name },
      tasks: [{ kind: createKeyTaskKind, summary: `Generate RSA-4096 key ${JSON.stringify(name)}`, data: { name, 'passphrase-token': token } }],
    });
  } catch (err) {
    deps.vault.forget(token);
    throw err;
  }
}
