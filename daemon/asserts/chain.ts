// Trust: from an assertion's sign-key-sha3-384, through account-keys, up to a
// trusted root key. Pure: assertions come from the caller's lookups.

import type { Assertion } from './assertion.js';
import { rememberedSignature } from './assertion.js';
import { utf8Text } from './bytes.js';
import { assertsError, type AssertsError } from './errors.js';
import { goQuote } from './goformat.js';
import { assertionType } from './registry.js';
import { decodeSignature } from './signature.js';
import { formatRFC3339 } from './rfc3339.js';
import type { AccountKeyInfo, AccountKeyRequestInfo } from './types/account-key.js';
import type { AssertsPublicKey } from './pubkey.js';
import { verifySignature } from './verify.js';

/** The keys and accounts trusted without proof (Canonical's root, the local store's root...). */
export interface TrustedRoots {
  readonly accountKeys: readonly Assertion[];
  readonly accounts?: readonly Assertion[];
}

/** A lookup the caller provides (memory, sqlite...); may be sync or async. */
export type Lookup = (key: string) => Assertion | undefined | Promise<Assertion | undefined>;

/** Verified intermediate keys and accounts, to skip re-checking them (share one per trust set). */
export interface ChainCache {
  /** full text of a verified key or account -> its path up to the root */
  readonly verified: Map<string, readonly Assertion[]>;
}

/** What checkChain needs besides the assertion. */
export interface ChainContext {
  readonly trusted: TrustedRoots;
  /** finds an account-key by its public-key-sha3-384 */
  readonly findAccountKey: Lookup;
  /** finds an account by account-id; when given, each non-root account-key needs its account */
  readonly findAccount?: Lookup;
  readonly cache?: ChainCache;
}

/** A successful check: the path from the assertion to its root. */
export interface ChainVerdict {
  /** the assertion, then each signing account-key, ending with the trusted root key */
  readonly chain: Assertion[];
  /** the trusted root key; null for self-signed types (account-key-request) */
  readonly root: Assertion | null;
  /** the accounts checked on the way */
  readonly accounts: Assertion[];
}

const maxDepth = 8;

// Keyed by the whole text, not the signature alone: a forged assertion could
// reuse a verified one's signature block.
function cacheKey(a: Assertion): string {
  return `${utf8Text(a.content)}\n\n${a.signature}`;
}

/** Makes an empty cache for checkChain. */
export function createChainCache(): ChainCache {
  return { verified: new Map() };
}

/** The time an assertion speaks for: its timestamp, or since for keys and users. */
export function assertionTime(a: Assertion): Date | null {
  const info = a.info as { timestamp?: Date | null; since?: Date };
  return info.timestamp ?? info.since ?? null;
}

/** Verifies an assertion's signature with a given public key (no trust decision). */
export function verifyAssertionSignature(a: Assertion, key: AssertsPublicKey): void {
  const sig = rememberedSignature(a) ?? decodeSignature(a.signature);
  verifySignature(a.content, sig, key);
}

function keyValidAt(key: AccountKeyInfo, t: Date): boolean {
  const ms = t.getTime();
  return ms >= key.since.getTime() && (key.until === null || ms < key.until.getTime());
}

function expired(a: Assertion, key: AccountKeyInfo, t: Date): AssertsError {
  const validity = key.until
    ? `during [${formatRFC3339(key.since)}, ${formatRFC3339(key.until)})`
    : `from ${formatRFC3339(key.since)}`;
  return assertsError(
    'key-expired',
    `assertion is signed with expired public key ${goQuote(a.signKeyId)} from ${goQuote(a.authorityId)}: assertion time is ${formatRFC3339(t)} but key is valid ${validity}`,
    { time: formatRFC3339(t), since: formatRFC3339(key.since), until: key.until ? formatRFC3339(key.until) : null },
  );
}

const directlyTrustedTypes: Record<string, (a: Assertion) => string> = {
  'account-key': (a) => `account-key assertion for ${goQuote((a.info as AccountKeyInfo).accountId)}`,
  account: (a) => `account assertion for ${goQuote(a.headers['account-id'] as string)}`,
  store: (a) => `store assertion ${goQuote(a.headers.store as string)}`,
};

/** Checks an assertion's signature and its chain of account-keys up to a trusted root. */
export async function checkChain(a: Assertion, ctx: ChainContext): Promise<ChainVerdict> {
  const roots = new Map<string, Assertion>();
  const authorities = new Set<string>();
  for (const k of ctx.trusted.accountKeys) {
    if (k.info.type !== 'account-key') throw assertsError('untrusted', `trusted root must be an account-key, not ${k.type}`);
    roots.set(k.info.publicKeyId, k);
    authorities.add(k.info.accountId);
  }
  for (const acc of ctx.trusted.accounts ?? []) authorities.add(acc.headers['account-id'] as string);
  const accounts: Assertion[] = [];
  const chain = await walk(a, 0, new Set());
  const top = chain[chain.length - 1] as Assertion;
  const isRoot = top.info.type === 'account-key' && roots.has(top.info.publicKeyId);
  return { chain, root: isRoot ? top : null, accounts };

  async function walk(x: Assertion, depth: number, path: ReadonlySet<string>): Promise<Assertion[]> {
    const type = assertionType(x.type);
    if (type && x.format > type.maxFormat) {
      throw assertsError('invalid-assertion', `proposed ${goQuote(x.type)} assertion has format ${x.format} but ${type.maxFormat} is latest supported`);
    }
    if (type?.noAuthority) {
      if (x.info.type !== 'account-key-request') {
        throw assertsError('untrusted', `cannot check no-authority assertion type ${goQuote(x.type)}`);
      }
      verifyAssertionSignature(x, (x.info as AccountKeyRequestInfo).publicKey);
      return [x];
    }
    if (depth > maxDepth || path.has(x.signature)) {
      throw assertsError('untrusted', `cannot check assertion chain: signing key ${goQuote(x.signKeyId)} of ${goQuote(x.authorityId)} does not lead to a trusted root key`);
    }
    const seen = new Set(path).add(x.signature);
    const describe = directlyTrustedTypes[x.type];
    if (describe && !authorities.has(x.authorityId)) {
      throw assertsError('untrusted', `${describe(x)} is not signed by a directly trusted authority: ${x.authorityId}`);
    }
    const root = roots.get(x.signKeyId);
    const key = root ?? (await ctx.findAccountKey(x.signKeyId));
    if (!key) {
      throw assertsError('missing-assertion', `no matching public key ${goQuote(x.signKeyId)} for signature by ${goQuote(x.authorityId)}`, {
        type: 'account-key',
        primaryKey: [x.signKeyId],
      });
    }
    if (key.info.type !== 'account-key' || key.info.publicKeyId !== x.signKeyId) {
      throw assertsError('untrusted', `lookup of account-key ${goQuote(x.signKeyId)} returned a different assertion`);
    }
    const akInfo = key.info;
    if (akInfo.accountId !== x.authorityId) {
      throw assertsError(
        'untrusted',
        `error finding matching public key for signature: found public key ${goQuote(x.signKeyId)} from ${goQuote(akInfo.accountId)} but expected it from: ${x.authorityId}`,
      );
    }
    const t = assertionTime(x);
    if (t && !keyValidAt(akInfo, t)) throw expired(x, akInfo, t);
    verifyAssertionSignature(x, akInfo.publicKey);
    if (root) return key.signature === x.signature ? [x] : [x, key];

    const cached = ctx.cache?.verified.get(cacheKey(key));
    if (cached) return [x, ...cached];
    const rest = await walk(key, depth + 1, seen);
    if (ctx.findAccount) await checkAccount(key, akInfo.accountId, depth, seen);
    ctx.cache?.verified.set(cacheKey(key), rest);
    return [x, ...rest];
  }

  async function checkAccount(key: Assertion, accountId: string, depth: number, path: ReadonlySet<string>): Promise<void> {
    if ((ctx.trusted.accounts ?? []).some((acc) => acc.headers['account-id'] === accountId)) return;
    const account = await ctx.findAccount?.(accountId);
    if (!account || account.type !== 'account' || account.headers['account-id'] !== accountId) {
      throw assertsError(
        'missing-assertion',
        `${directlyTrustedTypes['account-key']?.(key)} does not have a matching account assertion`,
        { type: 'account', primaryKey: [accountId] },
      );
    }
    if (!ctx.cache?.verified.has(cacheKey(account))) {
      const accountPath = await walk(account, depth + 1, path);
      ctx.cache?.verified.set(cacheKey(account), accountPath);
    }
    accounts.push(account);
  }
}
