// The account-key and account-key-request assertions: a public key and the
// account it belongs to (snapd's asserts/account_key.go).

import { invalid } from '../errors.js';
import {
  checkMap,
  checkNotEmptyString,
  checkOptionalRFC3339Date,
  checkRFC3339Date,
  checkStringMatches,
} from '../header-checks.js';
import type { AssertionParts } from '../assertion.js';
import { decodePublicKey, type AssertsPublicKey } from '../pubkey.js';

/** snapd's key name rule (also used for keyring names). */
export const validAccountKeyName = /^(?:[a-z0-9]+-?)*[a-z](?:-?[a-z0-9])*$/;

/** The typed view of an account-key assertion. */
export interface AccountKeyInfo {
  type: 'account-key';
  accountId: string;
  name: string;
  since: Date;
  /** null: valid forever */
  until: Date | null;
  publicKeyId: string;
  publicKey: AssertsPublicKey;
  /** the 'constraints' header, kept verbatim (format 1) */
  hasConstraints: boolean;
}

/** The typed view of an account-key-request assertion. */
export interface AccountKeyRequestInfo extends Omit<AccountKeyInfo, 'type' | 'hasConstraints'> {
  type: 'account-key-request';
}

function checkSinceUntil(h: AssertionParts['headers']): { since: Date; until: Date | null } {
  const since = checkRFC3339Date(h, 'since');
  const until = checkOptionalRFC3339Date(h, 'until');
  if (until && until.getTime() < since.getTime()) throw invalid(`'until' time cannot be before 'since' time`);
  return { since, until };
}

function checkPublicKey(a: AssertionParts): AssertsPublicKey {
  let key: AssertsPublicKey;
  try {
    key = decodePublicKey(a.body);
  } catch (err) {
    throw invalid((err as Error).message);
  }
  const keyId = checkNotEmptyString(a.headers, 'public-key-sha3-384');
  if (keyId !== key.id) throw invalid('public key does not match provided key id');
  return key;
}

function checkConstraints(a: AssertionParts): boolean {
  const list = a.headers.constraints;
  if (list === undefined) return false;
  if (!Array.isArray(list)) throw invalid('assertions constraints must be a list of maps');
  if (list.length === 0) throw invalid('assertions constraints cannot be empty');
  for (const c of list) {
    if (typeof c === 'string' || Array.isArray(c)) throw invalid('assertions constraints must be a list of maps');
    const hm = checkMap(c, 'headers', 'constraint');
    if (!hm) throw invalid(`"headers" constraint mandatory in asserions constraints`);
    const t = hm.type;
    if (t === undefined) throw invalid('type header constraint mandatory in asserions constraints');
    if (typeof t !== 'string') throw invalid('type header constraint must be a string');
    if (/[\\.+*?()|[\]{}^$]/.test(t)) throw invalid('type header constraint must be a precise string and not a regexp');
  }
  return true;
}

/** Checks an account-key assertion (the body must be the key named by public-key-sha3-384). */
export function assembleAccountKey(a: AssertionParts): AccountKeyInfo {
  const accountId = checkNotEmptyString(a.headers, 'account-id');
  let name = '';
  if (a.headers.name !== undefined) name = checkStringMatches(a.headers, 'name', validAccountKeyName, 'header', 'a key name is lowercase letters, digits and single hyphens, with at least one letter, like "my-model-key"');
  const { since, until } = checkSinceUntil(a.headers);
  const publicKey = checkPublicKey(a);
  const hasConstraints = checkConstraints(a);
  return { type: 'account-key', accountId, name, since, until, publicKeyId: publicKey.id, publicKey, hasConstraints };
}

/** Checks an account-key-request assertion (self-signed by the key in its body). */
export function assembleAccountKeyRequest(a: AssertionParts): AccountKeyRequestInfo {
  const accountId = checkNotEmptyString(a.headers, 'account-id');
  const name = checkStringMatches(a.headers, 'name', validAccountKeyName, 'header', 'a key name is lowercase letters, digits and single hyphens, with at least one letter, like "my-model-key"');
  const { since, until } = checkSinceUntil(a.headers);
  const publicKey = checkPublicKey(a);
  return { type: 'account-key-request', accountId, name, since, until, publicKeyId: publicKey.id, publicKey };
}

/** snapd's format analyzer for account-key: constraints need format 1. */
export function accountKeyFormat(headers: AssertionParts['headers']): number {
  return headers.constraints !== undefined ? 1 : 0;
}
