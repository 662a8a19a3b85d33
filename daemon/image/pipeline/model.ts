import {
  checkChain,
  decodeAssertion,
  encodeAssertion,
  type Assertion,
  type Lookup,
  type ModelInfo,
  type TrustedRoots,
} from '../../asserts/index.js';
import { chainFailureFix } from '../../asserts/chain-fix.js';
import { isCoreforgeError } from '../../errors.js';
import { imageError } from '../errors.js';

/** Where the model's signing keys come from: the trusted roots and the assertion database (injected). */
export interface ModelLookups {
  trusted: TrustedRoots;
  findAccountKey: Lookup;
  findAccount?: Lookup;
}

export interface VerifiedModel {
  assertion: Assertion;
  info: ModelInfo;
  /** The model's text as given, re-encoded (what the seed stores as `model`). */
  text: string;
  /** The chain's account-keys and accounts below the trusted roots, encoded, for the seed's assertions. */
  prerequisites: Assertion[];
}

/** Decodes the model, checks it is a model, and checks its signature chain up to a trusted root. */
export async function verifyModel(text: string, source: string, lookups: ModelLookups): Promise<VerifiedModel> {
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{')) {
    throw imageError(
      'invalid-model',
      `cannot use model ${source}: it is an unsigned model (JSON); sign it first ("snap sign -k KEY < model.json > model.assert" or "coreforge sign") and build with the signed model`,
    );
  }
  let assertion: Assertion;
  try {
    assertion = decodeAssertion(text);
  } catch (err) {
    const why = isCoreforgeError(err) ? err.message : String(err);
    throw imageError('invalid-model', `cannot decode model assertion ${JSON.stringify(source)}: ${why}`);
  }
  if (assertion.info.type !== 'model') {
    throw imageError('invalid-model', `assertion in ${JSON.stringify(source)} is not a model assertion (it is a ${assertion.type} assertion); pass the signed model assertion`);
  }
  const info = assertion.info as ModelInfo;
  if (info.classic) {
    throw imageError('invalid-model', `cannot build model ${JSON.stringify(info.model)}: classic models are not supported by coreforge build; use an Ubuntu Core model`);
  }
  let prerequisites: Assertion[];
  try {
    const verdict = await checkChain(assertion, lookups);
    if (verdict.root === null) throw new Error('no root');
    const rootIds = new Set(lookups.trusted.accountKeys.map((k) => k.headers['public-key-sha3-384'] as string));
    const keys = verdict.chain.slice(1).filter((k) => !rootIds.has(k.headers['public-key-sha3-384'] as string));
    // The verdict lists accounts only when it checked them (not when its cache knew the key): look them up.
    const trustedAccounts = new Set((lookups.trusted.accounts ?? []).map((a) => a.headers['account-id'] as string));
    const accounts: Assertion[] = [];
    for (const id of new Set(keys.map((k) => k.headers['account-id'] as string))) {
      if (trustedAccounts.has(id)) continue;
      const account = (await lookups.findAccount?.(id)) ?? verdict.accounts.find((a) => a.headers['account-id'] === id);
      if (account) accounts.push(account);
    }
    prerequisites = [...accounts, ...keys];
  } catch (err) {
    const why = isCoreforgeError(err) ? err.message : String(err);
    throw imageError('untrusted-model', `cannot verify model ${JSON.stringify(info.model)} of brand ${JSON.stringify(info.brandId)}: ${why}; ${chainFailureFix(err, { type: 'model', authorityId: info.brandId })}`);
  }
  return { assertion, info, text: encodeAssertion(assertion), prerequisites };
}

/** True for UC20 and later models (they have a grade). */
export function isUC20(info: ModelInfo): boolean {
  return info.grade !== 'unset';
}
