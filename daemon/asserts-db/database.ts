import {
  assertionType,
  checkChain,
  createChainCache,
  decodeAssertion,
  decodeStream,
  encodeAssertion,
  primaryKeyOf,
  type Assertion,
  type ChainCache,
  type ChainContext,
  type TrustedRoots,
} from '../asserts/index.js';
import type { Database } from '../db/database.js';
import { CoreforgeError } from '../errors.js';

/** Error kinds of the assertion database (besides daemon/asserts' own). */
export type AssertDbErrorKind =
  /** No assertion with that type and primary key is in the database. */
  | 'assertion-not-found'
  /** The type name is not an assertion type snapd knows. */
  | 'unknown-assertion-type';

/** The assertion database other parts of coreforged (image builds, sign --chain) rely on. */
export interface AssertionDatabase {
  /** Decodes a stream, checks each assertion's chain up to a trusted root, stores the newest revisions. */
  add(text: string | Uint8Array): Promise<Assertion[]>;
  find(type: string, primaryKey: string[]): Promise<Assertion | undefined>;
  /** An account-key by its public-key-sha3-384 (a checkChain lookup). */
  findAccountKey(id: string): Promise<Assertion | undefined>;
  /** An account by account-id (a checkChain lookup). */
  findAccount(id: string): Promise<Assertion | undefined>;
  /** Every assertion of a type whose string headers equal the given values. */
  query(type: string, headers?: Record<string, string>): Promise<Assertion[]>;
}

interface Row {
  text: string;
  revision: number;
  headers: string;
  trusted: number;
}

const keyOf = (pk: readonly string[]) => JSON.stringify(pk);
const textOf = (a: Assertion) => encodeAssertion(a);

/** Adds context to an error from the chain check of one assertion of a batch, keeping its kind. */
function annotate(err: unknown, prefix: string, index: number): unknown {
  if (err instanceof CoreforgeError) return new CoreforgeError(err.kind, `${prefix}${err.message}`, { ...err.details, index });
  return err;
}

/** Describes an assertion for messages: type and primary key, as `snap known` would select it. */
export function describeAssertion(a: Assertion): string {
  return `${a.type} ${JSON.stringify(primaryKeyOf(a).join('/'))}`;
}

/**
 * The assertion database in state.db: every stored assertion has passed its
 * type rules and its signature chain up to a trusted root; one row per type
 * and primary key, holding the highest revision. Trusted roots are Canonical's
 * (built in) plus the ones a user adds explicitly.
 */
export class SqliteAssertionDatabase implements AssertionDatabase {
  private userRoots: Assertion[] = [];
  private cache: ChainCache = createChainCache();

  constructor(
    private readonly db: Database,
    private readonly builtinRoots: readonly Assertion[],
  ) {}

  /** Loads the user's trusted roots from state.db; call once before use. */
  async open(): Promise<this> {
    const rows = await this.db.all<Row>('SELECT text FROM assertions WHERE trusted = 1 ORDER BY id');
    this.userRoots = rows.map((r) => decodeAssertion(r.text));
    return this;
  }

  /** The roots every chain must end in: built-in plus user-added. */
  trustedRoots(extra: readonly Assertion[] = []): TrustedRoots {
    const all = [...this.builtinRoots, ...this.userRoots, ...extra];
    return {
      accountKeys: all.filter((a) => a.type === 'account-key'),
      accounts: all.filter((a) => a.type === 'account'),
    };
  }

  /** A checkChain context looking first in `batch` (assertions not stored yet), then in the database. */
  chainContext(batch: readonly Assertion[] = [], extraTrusted: readonly Assertion[] = []): ChainContext {
    const keys = new Map<string, Assertion>();
    const accounts = new Map<string, Assertion>();
    for (const a of batch) {
      if (a.info.type === 'account-key') keys.set(a.info.publicKeyId, a);
      if (a.info.type === 'account') accounts.set(a.info.accountId, a);
    }
    return {
      trusted: this.trustedRoots(extraTrusted),
      findAccountKey: async (id) => keys.get(id) ?? (await this.findAccountKey(id)),
      findAccount: async (id) => accounts.get(id) ?? (await this.findAccount(id)),
      // Verified paths depend on the trust set: share the cache only when it is the stored one.
      cache: extraTrusted.length === 0 ? this.cache : createChainCache(),
    };
  }

  async add(text: string | Uint8Array): Promise<Assertion[]> {
    const batch = decodeStream(text);
    if (batch.length === 0) {
      throw new CoreforgeError('invalid-assertion', 'cannot add assertions: the input holds no assertion; give the text of one or more assertions');
    }
    const ctx = this.chainContext(batch);
    for (const [i, a] of batch.entries()) {
      const prefix = batch.length > 1 ? `cannot add assertion ${i + 1} of ${batch.length} (${describeAssertion(a)}): ` : `cannot add ${describeAssertion(a)}: `;
      if (assertionType(a.type)?.noAuthority) {
        throw new CoreforgeError('invalid-assertion', `${prefix}${JSON.stringify(a.type)} assertions have no authority and are not stored; send them to the store instead`, { index: i });
      }
      try {
        await checkChain(a, ctx);
      } catch (err) {
        throw annotate(err, prefix, i);
      }
    }
    return this.store(batch, false);
  }

  /**
   * Adds account-keys (and accounts) as trusted roots without a chain check:
   * the user vouches for them, as for snapd's test roots. Returns what was stored.
   */
  async addTrusted(text: string | Uint8Array): Promise<Assertion[]> {
    const batch = decodeStream(text);
    for (const [i, a] of batch.entries()) {
      if (a.type !== 'account-key' && a.type !== 'account') {
        throw new CoreforgeError('invalid-assertion', `cannot trust ${describeAssertion(a)}: only account-key and account assertions can be trusted roots`, { index: i });
      }
    }
    const stored = await this.store(batch, true);
    await this.open();
    this.cache = createChainCache();
    return stored;
  }

  private async store(batch: readonly Assertion[], trusted: boolean): Promise<Assertion[]> {
    return this.db.transaction(async () => {
      const stored: Assertion[] = [];
      for (const a of batch) {
        const pk = keyOf(primaryKeyOf(a));
        if (this.builtinRoots.some((r) => r.type === a.type && keyOf(primaryKeyOf(r)) === pk)) continue;
        const current = await this.db.get<Row>('SELECT revision, trusted FROM assertions WHERE type = ? AND primary_key = ?', [a.type, pk]);
        if (current && (current.revision > a.revision || (current.revision === a.revision && current.trusted >= (trusted ? 1 : 0)))) continue;
        await this.db.run(
          `INSERT INTO assertions (type, primary_key, revision, sign_key, headers, text, trusted, added)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (type, primary_key) DO UPDATE SET revision = excluded.revision, sign_key = excluded.sign_key,
             headers = excluded.headers, text = excluded.text, trusted = MAX(trusted, excluded.trusted), added = excluded.added`,
          [a.type, pk, a.revision, a.signKeyId, JSON.stringify(a.headers), textOf(a), trusted ? 1 : 0, new Date().toISOString()],
        );
        stored.push(a);
      }
      return stored;
    });
  }

  async find(type: string, primaryKey: string[]): Promise<Assertion | undefined> {
    const t = assertionType(type);
    if (!t) throw unknownType(type);
    const pk = t.primaryKey.map((k, i) => primaryKey[i] ?? t.optionalPrimaryKeyDefaults[k] ?? '');
    const key = keyOf(pk);
    const root = this.builtinRoots.find((r) => r.type === type && keyOf(primaryKeyOf(r)) === key);
    if (root) return root;
    const row = await this.db.get<Row>('SELECT text FROM assertions WHERE type = ? AND primary_key = ?', [type, key]);
    return row ? decodeAssertion(row.text) : undefined;
  }

  findAccountKey = (id: string): Promise<Assertion | undefined> => this.find('account-key', [id]);

  findAccount = (id: string): Promise<Assertion | undefined> => this.find('account', [id]);

  async query(type: string, headers: Record<string, string> = {}): Promise<Assertion[]> {
    if (!assertionType(type)) throw unknownType(type);
    const matches = (h: Record<string, unknown>) => Object.entries(headers).every(([k, v]) => h[k] === v);
    const out = this.builtinRoots.filter((r) => r.type === type && matches(r.headers));
    const rows = await this.db.all<Row>('SELECT text, headers FROM assertions WHERE type = ? ORDER BY primary_key', [type]);
    for (const r of rows) if (matches(JSON.parse(r.headers) as Record<string, unknown>)) out.push(decodeAssertion(r.text));
    return out;
  }
}

function unknownType(type: string): CoreforgeError<AssertDbErrorKind> {
  return new CoreforgeError<AssertDbErrorKind>('unknown-assertion-type', `cannot find assertions: unknown assertion type ${JSON.stringify(type)}; see snapd's list, e.g. model, account, account-key, snap-declaration`);
}
