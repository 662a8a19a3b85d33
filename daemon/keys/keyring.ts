import { randomBytes } from 'node:crypto';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import * as openpgp from 'openpgp';
import {
  encodePublicKey,
  formatRFC3339,
  publicKeyFromOpenPGP,
  signAssertion,
  signerFromOpenPGP,
  type AccountKeyRequestInfo,
  type Assertion,
  type AssertsPublicKey,
  type Signer,
} from '../asserts/index.js';
import type { Database } from '../db/database.js';
import { keysError } from './errors.js';
import { prepareKeysDir, readKeyFile, removeKeyFile, writeKeyFile } from './files.js';
import { rsaKeyGenerator, type KeyGenerator } from './generate.js';
import { exportFromGnupg, isScratchHome, runProgram, type RunProgram } from './gnupg.js';
import { checkKeyName } from './names.js';

/** One key of the keyring as sqlite indexes it. */
export interface KeyEntry {
  name: string;
  /** the SHA3-384 key id, as `snap keys` shows it and sign-key-sha3-384 names it */
  id: string;
  /** when the key was added to this keyring (RFC 3339) */
  created: string;
  path: string;
}

export interface KeyringOptions {
  db: Database;
  /** STATE/keys */
  dir: string;
  generate?: KeyGenerator;
  runProgram?: RunProgram;
  now?: () => Date;
}

/** Progress of key creation, as the change engine takes it. */
export type KeyProgress = (phase: string, done: number, total: number) => void;

interface KeyRow {
  name: string;
  key_id: string;
  created: string;
  path: string;
}

const toEntry = (r: KeyRow): KeyEntry => ({ name: r.name, id: r.key_id, created: r.created, path: r.path });

/** What an operation says before the reason, in snapd's words ("cannot use "x" key: ..."). */
type Action = 'use' | 'export' | 'delete';
const actionPrefix = (action: Action, name: string) =>
  action === 'use' ? `cannot use ${JSON.stringify(name)} key` : `cannot ${action} key named ${JSON.stringify(name)}`;

/** Checks that a passphrase was given; it is never logged, stored or echoed. */
export function checkPassphrase(passphrase: unknown, what: string): string {
  if (typeof passphrase !== 'string' || passphrase.length === 0) {
    throw keysError(
      'passphrase-required',
      `cannot ${what}: a non-empty passphrase is required; type it at the prompt, or pass --passphrase-file FILE or COREFORGE_PASSPHRASE`,
    );
  }
  return passphrase;
}

/**
 * The signing keys coreforged holds: RSA OpenPGP keys encrypted at rest with
 * their passphrase in STATE/keys (0700 dir, 0600 files), indexed in sqlite by
 * name and SHA3-384 id. Decrypted keys live only for the one operation.
 */
export class Keyring {
  private readonly db: Database;
  private readonly dir: string;
  private readonly generate: KeyGenerator;
  private readonly run: RunProgram;
  private readonly now: () => Date;

  constructor(options: KeyringOptions) {
    this.db = options.db;
    this.dir = options.dir;
    this.generate = options.generate ?? rsaKeyGenerator();
    this.run = options.runProgram ?? runProgram;
    this.now = options.now ?? (() => new Date());
  }

  /** Creates STATE/keys and removes private gnupg homes an interrupted import left; call once before use. */
  async open(): Promise<this> {
    await prepareKeysDir(this.dir);
    for (const name of await readdir(this.dir)) {
      if (isScratchHome(name)) await rm(join(this.dir, name), { recursive: true, force: true });
    }
    return this;
  }

  async list(): Promise<KeyEntry[]> {
    return (await this.db.all<KeyRow>('SELECT name, key_id, created, path FROM keys ORDER BY name')).map(toEntry);
  }

  /** The key of that name; throws key-not-found with snapd's text for the action. */
  async get(name: string, action: Action = 'use'): Promise<KeyEntry> {
    const row = await this.db.get<KeyRow>('SELECT name, key_id, created, path FROM keys WHERE name = ?', [name]);
    if (!row) {
      throw keysError(
        'key-not-found',
        `${actionPrefix(action, name)}: cannot find key pair in coreforge keyring; list the keys with "coreforge keys"`,
      );
    }
    return toEntry(row);
  }

  async findById(id: string): Promise<KeyEntry | undefined> {
    const row = await this.db.get<KeyRow>('SELECT name, key_id, created, path FROM keys WHERE key_id = ?', [id]);
    return row && toEntry(row);
  }

  /** Fails early, before slow work, when a name is invalid or taken. */
  async checkNewName(name: unknown): Promise<string> {
    const valid = checkKeyName(name);
    if (await this.db.get('SELECT 1 FROM keys WHERE name = ?', [valid])) {
      throw keysError(
        'key-exists',
        `key named ${JSON.stringify(valid)} already exists in coreforge keyring; choose another name, or delete the old key first with "coreforge delete-key ${valid}"`,
      );
    }
    return valid;
  }

  /** Generates, encrypts and stores a new key (snapd's create-key). */
  async create(name: string, passphrase: string, progress: KeyProgress = () => {}, signal?: AbortSignal): Promise<KeyEntry> {
    await this.checkNewName(name);
    checkPassphrase(passphrase, `create key ${JSON.stringify(name)}`);
    progress('generating RSA key', 0, 3);
    const key = await this.generate(name);
    signal?.throwIfAborted();
    progress('encrypting key', 1, 3);
    const entry = await this.store(name, key, passphrase, progress);
    progress('stored', 3, 3);
    return entry;
  }

  /** Imports a private key from armored text; an encrypted one is unlocked with the passphrase. */
  async importArmored(name: string, armored: string, passphrase: string): Promise<KeyEntry> {
    await this.checkNewName(name);
    checkPassphrase(passphrase, `import key ${JSON.stringify(name)}`);
    const key = await this.readImport(name, armored, passphrase, 'the armored key');
    return this.store(name, key, passphrase);
  }

  /**
   * Imports a key from a gnupg home (snapd's ~/.snap/gnupg) through gpg --export-secret-keys,
   * run on a private copy of the home's keyring files (never on the home itself).
   */
  async importGnupg(name: string, home: string, gnupgName: string, passphrase: string, signal?: AbortSignal): Promise<KeyEntry> {
    await this.checkNewName(name);
    checkPassphrase(passphrase, `import key ${JSON.stringify(name)}`);
    const armored = await exportFromGnupg({ home, name: gnupgName, passphrase, scratchDir: this.dir, run: this.run, signal });
    const key = await this.readImport(name, armored, passphrase, `key ${JSON.stringify(gnupgName)} of gnupg home ${home}`);
    return this.store(name, key, passphrase);
  }

  /** The public key as an account-key body (base64 of 0x01 + packet, `snap export-key` output). */
  async exportPublicKey(name: string): Promise<{ entry: KeyEntry; publicKey: string }> {
    const entry = await this.get(name, 'export');
    const key = await openpgp.readPrivateKey({ armoredKey: await readKeyFile(entry.path) });
    return { entry, publicKey: encodePublicKey(publicKeyFromOpenPGP(key)) };
  }

  /**
   * `snap export-key --account=ID`: an account-key-request for the key,
   * self-signed, without authority-id, valid since now.
   */
  async accountKeyRequest(name: string, accountId: unknown, passphrase: string): Promise<Assertion<AccountKeyRequestInfo>> {
    if (typeof accountId !== 'string' || accountId === '') {
      throw keysError(
        'invalid-account-id',
        `cannot export key named ${JSON.stringify(name)} as an account-key-request: an account id is required; pass --account ID (your store account id)`,
      );
    }
    const signer = await this.signer(name, passphrase, 'export');
    const time = this.now();
    const headers = {
      'account-id': accountId,
      name,
      'public-key-sha3-384': signer.publicKey.id,
      since: formatRFC3339(time),
    };
    return signAssertion('account-key-request', headers, encodePublicKey(signer.publicKey), signer, { time }) as Assertion<AccountKeyRequestInfo>;
  }

  /** Unlocks a key for one signing operation. */
  async signer(name: string, passphrase: string, action: Action = 'use'): Promise<Signer> {
    return signerFromOpenPGP(await this.unlock(name, passphrase, action));
  }

  /** Deletes a key; the passphrase must unlock it, so a stray request cannot destroy it. */
  async delete(name: string, passphrase: string): Promise<KeyEntry> {
    const entry = await this.get(name, 'delete');
    checkPassphrase(passphrase, `delete key named ${JSON.stringify(name)}`);
    await this.unlock(name, passphrase, 'delete');
    await this.db.run('DELETE FROM keys WHERE name = ?', [name]);
    await removeKeyFile(entry.path);
    return entry;
  }

  private async unlock(name: string, passphrase: string, action: Action): Promise<openpgp.PrivateKey> {
    const entry = await this.get(name, action);
    checkPassphrase(passphrase, `${actionPrefix(action, name).replace(/^cannot /, '')}`);
    const key = await openpgp.readPrivateKey({ armoredKey: await readKeyFile(entry.path) });
    try {
      return await openpgp.decryptKey({ privateKey: key, passphrase });
    } catch (err) {
      const message = (err as Error).message;
      if (/passphrase/i.test(message)) {
        throw keysError('wrong-passphrase', `${actionPrefix(action, name)}: wrong passphrase; give the passphrase chosen at create-key or import-key`);
      }
      throw keysError('key-import-failed', `${actionPrefix(action, name)}: cannot decrypt the stored key: ${message}`);
    }
  }

  private async readImport(name: string, armored: string, passphrase: string, source: string): Promise<openpgp.PrivateKey> {
    const fail = (why: string) => keysError('key-import-failed', `cannot import key ${JSON.stringify(name)}: ${why}`);
    if (typeof armored !== 'string' || armored.trim() === '') throw fail(`${source} is empty`);
    if (armored.includes('-----BEGIN PGP PUBLIC KEY BLOCK-----') && !armored.includes('PRIVATE KEY BLOCK')) {
      throw fail(`${source} holds a public key only; export the private key, e.g. "gpg --armor --export-secret-keys NAME"`);
    }
    let keys: openpgp.PrivateKey[];
    try {
      keys = await openpgp.readPrivateKeys({ armoredKeys: armored });
    } catch (err) {
      throw fail(`${source} is not an armored OpenPGP private key: ${(err as Error).message}`);
    }
    if (keys.length !== 1) throw fail(`${source} holds ${keys.length} keys; export exactly one (by fingerprint)`);
    let key = keys[0]!;
    try {
      publicKeyFromOpenPGP(key);
    } catch (err) {
      throw fail((err as Error).message);
    }
    if (!key.isDecrypted()) {
      try {
        key = await openpgp.decryptKey({ privateKey: key, passphrase });
      } catch (err) {
        if (/passphrase/i.test((err as Error).message)) {
          throw keysError('wrong-passphrase', `cannot import key ${JSON.stringify(name)}: wrong passphrase for ${source}; give the passphrase that protects it`);
        }
        throw fail(`cannot decrypt ${source}: ${(err as Error).message}`);
      }
    }
    return key;
  }

  private async store(name: string, key: openpgp.PrivateKey, passphrase: string, progress: KeyProgress = () => {}): Promise<KeyEntry> {
    const publicKey: AssertsPublicKey = publicKeyFromOpenPGP(key);
    const same = await this.findById(publicKey.id);
    if (same) {
      throw keysError('key-exists', `cannot add key ${JSON.stringify(name)}: the same key is already in coreforge keyring as ${JSON.stringify(same.name)}`);
    }
    const encrypted = await openpgp.encryptKey({ privateKey: key, passphrase });
    progress('storing key', 2, 3);
    const path = await writeKeyFile(this.dir, `${name}-${randomBytes(4).toString('hex')}.asc`, encrypted.armor());
    const entry: KeyEntry = { name, id: publicKey.id, created: this.now().toISOString(), path };
    try {
      await this.db.run('INSERT INTO keys (name, key_id, created, path) VALUES (?, ?, ?, ?)', [entry.name, entry.id, entry.created, entry.path]);
    } catch (err) {
      await removeKeyFile(path);
      if (/UNIQUE constraint failed: keys\.name/.test((err as Error).message)) await this.checkNewName(name);
      if (/UNIQUE constraint failed: keys\.key_id/.test((err as Error).message)) {
        throw keysError('key-exists', `cannot add key ${JSON.stringify(name)}: the same key is already in coreforge keyring`);
      }
      throw err;
    }
    return entry;
  }
}
