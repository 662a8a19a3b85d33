import { checkChain, decodeStream, primaryKeyOf, type Assertion } from '../asserts/index.js';
import { chainFailureFix } from '../asserts/chain-fix.js';
import { CoreforgeError } from '../errors.js';
import { describeAssertion, type SqliteAssertionDatabase } from './database.js';

/** The verdict on one assertion of a verified stream. */
export interface AssertionVerdict {
  index: number;
  type: string;
  'primary-key': string[];
  'authority-id': string;
  'sign-key-sha3-384': string;
  valid: boolean;
  /** why it is valid (the chain) or why not (the error message) */
  reason: string;
  /** the error kind when not valid */
  kind?: string;
  /** what to do about it, by cause, when not valid */
  fix?: string;
  /** the chain from the assertion to its root, as type and primary key */
  chain?: { type: string; 'primary-key': string[] }[];
  /** the trusted root key id; null for self-signed account-key-requests */
  root?: string | null;
}

/**
 * Verifies each assertion of a stream against the trusted roots (built-in,
 * user-added and `trustedText`), looking up keys and accounts in the stream
 * itself, in `lookupTexts`, then in the database. Every key used on the way is
 * verified as part of the chain. Nothing is stored.
 */
export async function verifyAssertions(
  db: SqliteAssertionDatabase,
  text: string,
  trustedText?: string,
  lookupTexts: readonly string[] = [],
): Promise<AssertionVerdict[]> {
  const batch = decodeStream(text);
  if (batch.length === 0) throw new CoreforgeError('invalid-assertion', 'cannot verify: the input holds no assertion');
  const trusted = trustedText ? decodeStream(trustedText) : [];
  for (const a of trusted) {
    if (a.type !== 'account-key' && a.type !== 'account') {
      throw new CoreforgeError('invalid-assertion', `cannot use ${describeAssertion(a)} as trusted: only account-key and account assertions can be trusted roots`);
    }
  }
  // Lookup-only assertions (other files of one `verify` run) may name signing keys;
  // an undecodable one is skipped here, it gets its own verdict when verified itself.
  const lookup = lookupTexts.flatMap((t) => {
    try {
      return decodeStream(t);
    } catch {
      return [];
    }
  });
  const ctx = db.chainContext([...batch, ...trusted, ...lookup], trusted);
  const out: AssertionVerdict[] = [];
  for (const [index, a] of batch.entries()) {
    const base = {
      index,
      type: a.type,
      'primary-key': primaryKeyOf(a),
      'authority-id': a.authorityId,
      'sign-key-sha3-384': a.signKeyId,
    };
    try {
      const v = await checkChain(a, ctx);
      out.push({ ...base, valid: true, reason: describeChain(v.chain, v.root), chain: v.chain.map((c) => ({ type: c.type, 'primary-key': primaryKeyOf(c) })), root: v.root?.signKeyId ?? null });
    } catch (err) {
      if (!(err instanceof CoreforgeError)) throw err;
      out.push({ ...base, valid: false, reason: err.message, kind: err.kind, fix: chainFailureFix(err, { type: a.type, authorityId: a.authorityId }) });
    }
  }
  return out;
}

function describeChain(chain: Assertion[], root: Assertion | null): string {
  if (!root) return 'self-signed: the signature matches the key in its body';
  const rootInfo = root.info as { accountId?: string; publicKeyId?: string };
  const steps = chain.length - 1;
  if (steps === 0) return `it is a trusted root: ${JSON.stringify(rootInfo.publicKeyId)} of ${JSON.stringify(rootInfo.accountId)}`;
  return `signature chain of ${steps} key${steps === 1 ? '' : 's'} up to the trusted root key ${JSON.stringify(rootInfo.publicKeyId)} of ${JSON.stringify(rootInfo.accountId)}`;
}
