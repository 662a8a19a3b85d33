// The embedded local store: its own root and store keys, snaps with signed
// snap-declarations and snap-revisions, channels, accounts and their
// registered developer keys. State in state.db (store_* tables) and
// STATE/store/{keys,blobs}. Edge module: sqlite, files, unsquashfs.
import { copyFile, mkdir, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes, type KeyObject } from 'node:crypto';
import {
  assertionType,
  checkChain,
  decodeAssertion,
  encodeAssertion,
  encodePublicKey,
  formatRFC3339,
  primaryKeyOf,
  signAssertion,
  signerFromKeyObject,
  type AccountKeyRequestInfo,
  type Assertion,
  type Signer,
} from '../../asserts/index.js';
import { formatSshKey, isSshKeyProblem, parseSshPublicKey, shownKeyLine } from '../../../common/ssh-key.js';
import type { Database } from '../../db/database.js';
import { channelName, closingRisks, parseChannel } from '../channels.js';
import { storeError } from '../errors.js';
import { snapFileDigest } from '../../snap/digest.js';
import type { SnapInfo } from '../../snap/snap-yaml.js';
import { execProgram, readSnapMeta, type RunProgram } from '../snap-file.js';
import { localSnapId, randomAccountId } from './ids.js';
import { rsa4096, StoreKeyFiles, type StoreKeyGenerator } from './keys.js';
import { verifyPassword, verifyTotp } from './secrets.js';

export interface LocalStoreOptions {
  db: Database;
  /** STATE/store */
  dir: string;
  generateKey?: StoreKeyGenerator;
  run?: RunProgram;
  now?: () => Date;
  /** called once per process when the identity is first loaded or made (the daemon trusts the root here) */
  onIdentity?: (identity: LocalStoreIdentity) => Promise<void>;
}

/** The local store's signing identity. */
export interface LocalStoreIdentity {
  /** the account-id of the store (authority of everything it signs) */
  accountId: string;
  rootAccount: Assertion;
  rootAccountKey: Assertion;
  storeAccountKey: Assertion;
}

/** A revision of a snap as the store serves it. */
export interface StoreRevision extends SnapInfo {
  snapId: string;
  revision: number;
  sha3_384: string;
  size: number;
  publisherId: string;
  created: string;
}

/** What add() did. */
export interface AddResult extends StoreRevision {
  /** false when the same file was already in the store (idempotent add) */
  added: boolean;
  channels: string[];
}

/** One snap of list(). */
export interface StoreSnap {
  name: string;
  snapId: string;
  revisions: StoreRevision[];
  /** channel (TRACK/RISK[/BRANCH]) -> architecture -> revision */
  channels: Record<string, Record<string, number>>;
}

/** A local store account (never with its password). */
export interface StoreAccount {
  accountId: string;
  email: string;
  username: string;
  sshKeys: string[];
  hasPassword: boolean;
  hasOtp: boolean;
  created: string;
}

interface RevisionRow {
  snap_id: string;
  revision: number;
  sha3_384: string;
  size: number;
  meta: string;
  created: string;
  name: string;
  publisher_id: string;
}

interface AccountRow {
  account_id: string;
  email: string;
  username: string;
  ssh_keys: string;
  password_hash: string | null;
  otp_secret: string | null;
  created: string;
}

const toRevision = (r: RevisionRow): StoreRevision => {
  const meta = JSON.parse(r.meta) as SnapInfo;
  return {
    ...meta,
    // rows written before base was always set have none when the snap has none
    base: meta.base ?? '',
    name: r.name,
    snapId: r.snap_id,
    revision: r.revision,
    sha3_384: r.sha3_384,
    size: r.size,
    publisherId: r.publisher_id,
    created: r.created,
  };
};

const toAccount = (r: AccountRow): StoreAccount => ({
  accountId: r.account_id,
  email: r.email,
  username: r.username,
  sshKeys: JSON.parse(r.ssh_keys) as string[],
  hasPassword: r.password_hash !== null,
  hasOtp: r.otp_secret !== null,
  created: r.created,
});

const revisionSelect = `SELECT r.snap_id, r.revision, r.sha3_384, r.size, r.meta, r.created, s.name, s.publisher_id
  FROM store_revisions r JOIN store_snaps s ON s.snap_id = r.snap_id`;

const emailPattern = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
const usernamePattern = /^[a-z][-a-z0-9._]{0,31}$/;
/** Checks one public key line with the rule console-conf applies on the device; gives its normal form. */
export function checkSshKey(line: string): string {
  const key = parseSshPublicKey(line);
  if (isSshKeyProblem(key)) {
    throw storeError('invalid-account', `cannot use SSH key ${shownKeyLine(line.trim())}: ${key.why}; give the line of an OpenSSH .pub file as it is, without options`);
  }
  return formatSshKey(key);
}

/** The embedded local store. Create once per daemon; identity is made on first use. */
export class LocalStore {
  private readonly db: Database;
  readonly dir: string;
  private readonly keys: StoreKeyFiles;
  private readonly generateKey: StoreKeyGenerator;
  private readonly run: RunProgram;
  private readonly now: () => Date;
  private readonly onIdentity?: (identity: LocalStoreIdentity) => Promise<void>;
  private ready?: Promise<{ identity: LocalStoreIdentity; signer: Signer }>;

  constructor(options: LocalStoreOptions) {
    this.db = options.db;
    this.dir = options.dir;
    this.keys = new StoreKeyFiles(join(options.dir, 'keys'));
    this.generateKey = options.generateKey ?? rsa4096;
    this.run = options.run ?? execProgram;
    this.now = options.now ?? (() => new Date());
    if (options.onIdentity) this.onIdentity = options.onIdentity;
  }

  private time(): Date {
    return new Date(Math.floor(this.now().getTime() / 1000) * 1000);
  }

  /** The store's identity, created (keys, root account and account-keys) on first call. */
  async identity(): Promise<LocalStoreIdentity> {
    return (await this.open()).identity;
  }

  private open() {
    this.ready ??= this.load().catch((err: unknown) => {
      this.ready = undefined;
      throw err;
    });
    return this.ready;
  }

  private async load(): Promise<{ identity: LocalStoreIdentity; signer: Signer }> {
    const get = async (k: string) => (await this.db.get<{ value: string }>('SELECT value FROM store_meta WHERE key = ?', [k]))?.value;
    let accountId = await get('account-id');
    let root = await this.keys.load('root');
    let store = await this.keys.load('store');
    if (accountId === undefined || root === undefined || store === undefined) {
      // Both keys are made together; a half-made identity (crash) is made again.
      [root, store] = await Promise.all([this.generateKey(), this.generateKey()]);
      accountId = randomAccountId();
      await this.makeIdentity(accountId, root, store);
    }
    const signer = signerFromKeyObject(store);
    const find = async (type: string, pk: string[]) => {
      const a = await this.findAssertion(type, pk);
      if (!a) throw new Error(`local store state is incomplete: no ${type} ${pk.join('/')}; move ${this.dir} and the store_* tables aside`);
      return a;
    };
    const rootSigner = signerFromKeyObject(root);
    const identity: LocalStoreIdentity = {
      accountId,
      rootAccount: await find('account', [accountId]),
      rootAccountKey: await find('account-key', [rootSigner.publicKey.id]),
      storeAccountKey: await find('account-key', [signer.publicKey.id]),
    };
    await this.onIdentity?.(identity);
    return { identity, signer };
  }

  private async makeIdentity(accountId: string, root: KeyObject, store: KeyObject): Promise<void> {
    const time = this.time();
    const rootSigner = signerFromKeyObject(root);
    const storeSigner = signerFromKeyObject(store);
    const since = formatRFC3339(time);
    // both keys are the store account's, signed by its root key
    const accountKey = (name: string, signer: typeof rootSigner) =>
      signAssertion('account-key', { 'authority-id': accountId, 'account-id': accountId, name, 'public-key-sha3-384': signer.publicKey.id, since }, encodePublicKey(signer.publicKey), rootSigner, { time });
    const rootKey = accountKey('root', rootSigner);
    const account = signAssertion(
      'account',
      { 'authority-id': accountId, 'account-id': accountId, 'display-name': 'coreforge local store', username: 'local-store', validation: 'verified', timestamp: since },
      undefined,
      rootSigner,
      { time },
    );
    const storeKey = accountKey('store', storeSigner);
    await this.keys.save('root', root);
    await this.keys.save('store', store);
    await this.db.transaction(async () => {
      for (const a of [account, rootKey, storeKey]) await this.putAssertion(a);
      await this.db.run(`INSERT INTO store_meta (key, value) VALUES ('account-id', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, [accountId]);
    });
  }

  /** A random secret of the store's services (macaroon root keys), made once and kept in state.db. */
  async serviceSecret(name: string): Promise<Buffer> {
    const key = `secret:${name}`;
    const row = await this.db.get<{ value: string }>('SELECT value FROM store_meta WHERE key = ?', [key]);
    if (row) return Buffer.from(row.value, 'base64');
    await this.db.run('INSERT OR IGNORE INTO store_meta (key, value) VALUES (?, ?)', [key, randomBytes(32).toString('base64')]);
    return this.serviceSecret(name);
  }

  /** The trusted roots to give the assertion database: the root account and root account-key. */
  async rootText(): Promise<string> {
    const id = await this.identity();
    return [id.rootAccount, id.rootAccountKey].map(encodeAssertion).join('\n');
  }

  private async putAssertion(a: Assertion): Promise<void> {
    const accountId = typeof a.headers['account-id'] === 'string' ? a.headers['account-id'] : null;
    await this.db.run(
      `INSERT INTO store_assertions (type, primary_key, text, account_id) VALUES (?, ?, ?, ?)
       ON CONFLICT (type, primary_key) DO UPDATE SET text = excluded.text, account_id = excluded.account_id`,
      [a.type, JSON.stringify(primaryKeyOf(a)), encodeAssertion(a), accountId],
    );
  }

  /** An assertion the store signed (or holds), by type and primary key (optional trailing parts defaulted). */
  async findAssertion(type: string, primaryKey: string[]): Promise<Assertion | undefined> {
    const t = assertionType(type);
    if (!t) return undefined;
    const pk = t.primaryKey.map((k, i) => primaryKey[i] ?? t.optionalPrimaryKeyDefaults[k] ?? '');
    const row = await this.db.get<{ text: string }>('SELECT text FROM store_assertions WHERE type = ? AND primary_key = ?', [type, JSON.stringify(pk)]);
    return row ? decodeAssertion(row.text) : undefined;
  }

  private async sign(type: string, headers: Record<string, unknown>, body?: string): Promise<Assertion> {
    const { identity, signer } = await this.open();
    const a = signAssertion(type, { 'authority-id': identity.accountId, ...headers }, body, signer, { time: this.time() });
    await this.putAssertion(a);
    return a;
  }

  /** Where a blob of that digest lives. */
  blobPath(sha3_384: string): string {
    return join(this.dir, 'blobs', sha3_384);
  }

  /**
   * Adds a .snap file: the next revision of its name (or the existing one for the same bytes), released
   * to `channel` when given. Read from `file`; messages name `shown`, the path as the request gave it.
   */
  async add(file: string, channel?: string, shown = file): Promise<AddResult> {
    const parsed = channel === undefined ? undefined : parseChannel(channel);
    const meta = await readSnapMeta(file, this.run, shown);
    const { sha3_384, size } = await snapFileDigest(file);
    const { identity } = await this.open();
    const blob = this.blobPath(sha3_384);
    await mkdir(join(this.dir, 'blobs'), { recursive: true });
    const tmp = `${blob}.tmp-${randomBytes(4).toString('hex')}`;
    await copyFile(file, tmp);
    await rename(tmp, blob);
    const snapId = localSnapId(meta.name);
    const time = this.time();
    const { revision, added } = await this.db.transaction(async () => {
      const same = await this.db.get<{ snap_id: string; revision: number }>('SELECT snap_id, revision FROM store_revisions WHERE sha3_384 = ?', [sha3_384]);
      if (same) {
        if (same.snap_id !== snapId) throw storeError('invalid-snap', `cannot add ${shown} to the store: the same file is already in the store under another name`);
        return { revision: same.revision, added: false };
      }
      const snap = await this.db.get<{ snap_id: string }>('SELECT snap_id FROM store_snaps WHERE name = ?', [meta.name]);
      if (!snap) {
        await this.db.run('INSERT INTO store_snaps (name, snap_id, publisher_id, created) VALUES (?, ?, ?, ?)', [meta.name, snapId, identity.accountId, time.toISOString()]);
        await this.sign('snap-declaration', { series: '16', 'snap-id': snapId, 'snap-name': meta.name, 'publisher-id': identity.accountId, timestamp: formatRFC3339(time) });
      }
      const max = await this.db.get<{ m: number | null }>('SELECT MAX(revision) AS m FROM store_revisions WHERE snap_id = ?', [snapId]);
      const next = (max?.m ?? 0) + 1;
      await this.sign('snap-revision', {
        'snap-sha3-384': sha3_384,
        'snap-id': snapId,
        'snap-size': String(size),
        'snap-revision': String(next),
        'developer-id': identity.accountId,
        timestamp: formatRFC3339(time),
      });
      await this.db.run(
        'INSERT INTO store_revisions (snap_id, revision, sha3_384, size, meta, created) VALUES (?, ?, ?, ?, ?, ?)',
        [snapId, next, sha3_384, size, JSON.stringify(meta), time.toISOString()],
      );
      return { revision: next, added: true };
    });
    const channels = parsed ? [await this.release(meta.name, revision, channelName(parsed))] : [];
    const rev = await this.revision(meta.name, revision);
    return { ...rev, added, channels };
  }

  /** One revision of a snap. */
  async revision(name: string, revision: number): Promise<StoreRevision> {
    const row = await this.db.get<RevisionRow>(`${revisionSelect} WHERE s.name = ? AND r.revision = ?`, [name, revision]);
    if (!row) {
      await this.snapId(name);
      throw storeError('revision-not-found', `cannot find revision ${revision} of snap ${JSON.stringify(name)} in the local store; see \`coreforge store list\``);
    }
    return toRevision(row);
  }

  private async snapId(name: string): Promise<string> {
    const row = await this.db.get<{ snap_id: string }>('SELECT snap_id FROM store_snaps WHERE name = ?', [name]);
    if (!row) throw storeError('snap-not-found', `cannot find snap ${JSON.stringify(name)} in the local store; add it with \`coreforge store add FILE\``);
    return row.snap_id;
  }

  /** Points a channel at a revision for each of its architectures; returns the full channel name. */
  async release(name: string, revision: number, channel: string): Promise<string> {
    const c = parseChannel(channel);
    const rev = await this.revision(name, revision);
    const time = this.time().toISOString();
    await this.db.transaction(async () => {
      for (const arch of rev.architectures) {
        await this.db.run(
          `INSERT INTO store_channels (snap_id, architecture, track, risk, branch, revision, released) VALUES (?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (snap_id, architecture, track, risk, branch) DO UPDATE SET revision = excluded.revision, released = excluded.released`,
          [rev.snapId, arch, c.track, c.risk, c.branch, revision, time],
        );
      }
    });
    return channelName(c);
  }

  /** Every snap with its revisions and channel map. */
  async list(): Promise<StoreSnap[]> {
    const snaps = await this.db.all<{ name: string; snap_id: string }>('SELECT name, snap_id FROM store_snaps ORDER BY name');
    const out: StoreSnap[] = [];
    for (const s of snaps) {
      const revisions = (await this.db.all<RevisionRow>(`${revisionSelect} WHERE s.snap_id = ? ORDER BY r.revision`, [s.snap_id])).map(toRevision);
      const channels: StoreSnap['channels'] = {};
      const rows = await this.db.all<{ architecture: string; track: string; risk: string; branch: string; revision: number }>(
        'SELECT architecture, track, risk, branch, revision FROM store_channels WHERE snap_id = ? ORDER BY track, risk, branch, architecture',
        [s.snap_id],
      );
      for (const r of rows) (channels[`${r.track}/${r.risk}${r.branch ? `/${r.branch}` : ''}`] ??= {})[r.architecture] = r.revision;
      out.push({ name: s.name, snapId: s.snap_id, revisions, channels });
    }
    return out;
  }

  /** The revision a device of `arch` gets from `channel` (risk closing as the store does). */
  async resolve(name: string, channel: string, arch: string): Promise<StoreRevision> {
    const c = parseChannel(channel);
    const snapId = await this.snapId(name);
    for (const risk of closingRisks(c.risk)) {
      const row = await this.db.get<{ revision: number }>(
        `SELECT revision FROM store_channels WHERE snap_id = ? AND track = ? AND risk = ? AND branch = ? AND architecture IN (?, 'all')`,
        [snapId, c.track, risk, c.branch, arch],
      );
      if (row) return this.revision(name, row.revision);
    }
    const other = await this.db.all<{ architecture: string }>(
      'SELECT DISTINCT architecture FROM store_channels WHERE snap_id = ? AND track = ? AND branch = ? ORDER BY architecture',
      [snapId, c.track, c.branch],
    );
    if (other.length > 0) {
      throw storeError(
        'revision-not-found',
        `cannot find a revision of snap ${JSON.stringify(name)} for architecture ${arch} in channel ${channelName(c)}: the channel has only ${other.map((o) => o.architecture).join(', ')}; release a build for ${arch}`,
        { architectures: other.map((o) => o.architecture) },
      );
    }
    throw storeError('revision-not-found', `cannot find a revision of snap ${JSON.stringify(name)} in channel ${channelName(c)}; release one with \`coreforge store release ${name} REVISION ${channelName(c)}\``);
  }

  /** Adds an account (email, username, SSH keys, optional password hash and TOTP secret); signs its account assertion. */
  async addAccount(email: string, username: string, sshKeys: string[], passwordHash?: string, otpSecret?: string): Promise<StoreAccount> {
    if (!emailPattern.test(email)) throw storeError('invalid-account', `cannot add account ${JSON.stringify(email)}: it is not an email address`);
    if (!usernamePattern.test(username)) {
      throw storeError('invalid-account', `cannot add account ${JSON.stringify(email)}: username ${JSON.stringify(username)} must be 1 to 32 lowercase letters, digits, ".", "_" or "-", starting with a letter`);
    }
    const keys = sshKeys.map(checkSshKey);
    const accountId = randomAccountId();
    const time = this.time();
    await this.open();
    return this.db.transaction(async () => {
      const clash = await this.db.get<{ email: string; username: string }>('SELECT email, username FROM store_accounts WHERE email = ? OR username = ?', [email, username]);
      if (clash) {
        const what = clash.email === email ? `email ${JSON.stringify(email)}` : `username ${JSON.stringify(username)}`;
        throw storeError('account-exists', `cannot add account ${JSON.stringify(email)}: an account with ${what} already exists; see \`coreforge store account list\``);
      }
      await this.db.run(
        'INSERT INTO store_accounts (account_id, email, username, ssh_keys, password_hash, otp_secret, created) VALUES (?, ?, ?, ?, ?, ?, ?)',
        [accountId, email, username, JSON.stringify(keys), passwordHash ?? null, otpSecret ?? null, time.toISOString()],
      );
      await this.sign('account', { 'account-id': accountId, 'display-name': username, username, validation: 'unproven', timestamp: formatRFC3339(time) });
      return (await this.account(accountId))!;
    });
  }

  /** Every account, oldest first. */
  async listAccounts(): Promise<StoreAccount[]> {
    return (await this.db.all<AccountRow>('SELECT * FROM store_accounts ORDER BY created, email')).map(toAccount);
  }

  /** An account by id. */
  async account(accountId: string): Promise<StoreAccount | undefined> {
    const row = await this.db.get<AccountRow>('SELECT * FROM store_accounts WHERE account_id = ?', [accountId]);
    return row ? toAccount(row) : undefined;
  }

  /** A revision by snap-id, for download URLs. */
  async revisionById(snapId: string, revision: number): Promise<StoreRevision | undefined> {
    const row = await this.db.get<RevisionRow>(`${revisionSelect} WHERE r.snap_id = ? AND r.revision = ?`, [snapId, revision]);
    return row ? toRevision(row) : undefined;
  }

  /** An account by email. */
  async accountByEmail(email: string): Promise<StoreAccount | undefined> {
    const row = await this.db.get<AccountRow>('SELECT * FROM store_accounts WHERE email = ?', [email]);
    return row ? toAccount(row) : undefined;
  }

  /** Checks email, password and (when the account has one) the one-time code; gives the account. */
  async authenticate(email: string, password: string, otp?: string): Promise<StoreAccount> {
    const row = await this.db.get<AccountRow>('SELECT * FROM store_accounts WHERE email = ?', [email]);
    if (!row || row.password_hash === null || !verifyPassword(password, row.password_hash)) {
      throw storeError('invalid-credentials', 'Provided email/password is not correct.');
    }
    if (row.otp_secret !== null) {
      if (!otp) throw storeError('otp-required', '2-factor authentication required.');
      if (!verifyTotp(row.otp_secret, otp, this.now())) throw storeError('otp-required', 'The provided 2-factor key is not recognised.');
    }
    return toAccount(row);
  }

  /** Registers a developer key: checks the self-signed account-key-request, signs the account-key. */
  async registerAccountKey(accountId: string, requestText: string): Promise<Assertion> {
    const account = await this.account(accountId);
    if (!account) throw storeError('account-not-found', `cannot register key: no account with id ${JSON.stringify(accountId)} in the local store`);
    let req: Assertion;
    try {
      req = decodeAssertion(requestText);
      if (req.type !== 'account-key-request') throw new Error(`it is a ${req.type} assertion`);
      await checkChain(req, { trusted: { accountKeys: [] }, findAccountKey: () => undefined });
    } catch (err) {
      throw storeError('invalid-account-key-request', `cannot register key: the account-key-request is not valid: ${(err as Error).message}`);
    }
    const info = req.info as AccountKeyRequestInfo;
    if (info.accountId !== accountId) {
      throw storeError('invalid-account-key-request', `cannot register key: the account-key-request is for account ${JSON.stringify(info.accountId)}, not the logged-in account ${JSON.stringify(accountId)}`);
    }
    const existing = await this.findAssertion('account-key', [info.publicKeyId]);
    if (existing) {
      throw storeError('key-already-registered', `cannot register key ${JSON.stringify(info.name)}: it is already registered with account ${JSON.stringify(existing.headers['account-id'])}`);
    }
    const names = await this.accountKeys(accountId);
    if (names.some((k) => k.headers.name === info.name)) {
      throw storeError('key-already-registered', `cannot register key ${JSON.stringify(info.name)}: account ${JSON.stringify(account.username)} already has a key named ${JSON.stringify(info.name)}; use another key name`);
    }
    // An account-key speaks from its since: it cannot start before the store key that signs it.
    const storeSince = String((await this.identity()).storeAccountKey.headers.since);
    const reqSince = req.headers.since as string;
    const since = Date.parse(reqSince) < Date.parse(storeSince) ? storeSince : reqSince;
    return this.sign(
      'account-key',
      { 'account-id': accountId, name: info.name, 'public-key-sha3-384': info.publicKeyId, since, ...(req.headers.until ? { until: req.headers.until } : {}) },
      Buffer.from(req.body).toString('utf8'),
    );
  }

  /** The account-keys registered by an account. */
  async accountKeys(accountId: string): Promise<Assertion[]> {
    const rows = await this.db.all<{ text: string }>(`SELECT text FROM store_assertions WHERE type = 'account-key' AND account_id = ? ORDER BY primary_key`, [accountId]);
    return rows.map((r) => decodeAssertion(r.text));
  }

  /** The size of a stored blob, undefined when it is missing. */
  async blobSize(sha3_384: string): Promise<number | undefined> {
    try {
      return (await stat(this.blobPath(sha3_384))).size;
    } catch {
      return undefined;
    }
  }
}

