// `snap sign`: a JSON statement (headers plus an optional "body" pseudo-header)
// signed with a key, with snapd's checks and texts (asserts/signtool/sign.go).

import type { Assertion } from './assertion.js';
import type { AccountKeyInfo } from './types/account-key.js';
import { invalid } from './errors.js';
import { goValue } from './goformat.js';
import { assertionType } from './registry.js';
import { formatRFC3339 } from './rfc3339.js';
import { signAssertion } from './sign-assertion.js';
import type { Signer, SignatureFlavour } from './sign.js';

/** Options of signStatement, mirroring `snap sign` flags. */
export interface SignStatementOptions {
  /** signature creation time; also the timestamp written by updateTimestamp */
  time: Date;
  /** `snap sign --update-timestamp`: set "timestamp" to time (UTC, whole seconds) */
  updateTimestamp?: boolean;
  /** the signing key's account-key, to cross-check authority-id as `snap sign` does */
  accountKey?: Assertion<AccountKeyInfo>;
  flavour?: SignatureFlavour;
}

/** Signs a parsed JSON statement the way `snap sign` does; fills sign-key-sha3-384 (and body-length). */
export function signStatement(statement: unknown, signer: Signer, options: SignStatementOptions): Assertion {
  if (statement === null || typeof statement !== 'object' || Array.isArray(statement)) {
    throw invalid(`cannot parse the assertion input as JSON: expected an object of headers, not: ${goValue(statement)}`);
  }
  const headers: Record<string, unknown> = { ...(statement as Record<string, unknown>) };
  if (!Object.hasOwn(headers, 'type')) throw invalid('missing assertion type header');
  const typeCand = headers.type;
  if (typeof typeCand !== 'string') throw invalid(`assertion type must be a string, not: ${goValue(typeCand)}`);
  if (!assertionType(typeCand)) throw invalid(`invalid assertion type: ${typeCand}`);
  let body: string | undefined;
  if (Object.hasOwn(headers, 'body')) {
    if (typeof headers.body !== 'string') throw invalid('body if specified must be a string');
    body = headers.body;
    delete headers.body;
  }
  if (options.accountKey) {
    const ak = options.accountKey.info;
    if (ak.publicKeyId !== signer.publicKey.id) throw invalid('internal error: key id does not match the signing account-key');
    if (ak.accountId !== headers['authority-id']) {
      throw invalid('authority-id does not match the account-id of the signing account-key');
    }
  }
  if (body !== undefined && body !== '' && assertionType(typeCand)?.jsonBody) body = reformatJSON(body);
  if (options.updateTimestamp) headers.timestamp = formatRFC3339(options.time);
  return signAssertion(typeCand, headers, body, signer, { time: options.time, flavour: options.flavour });
}

/** Parses statement text then signs it; the JSON parse error text is snapd's. */
export function signStatementText(text: string, signer: Signer, options: SignStatementOptions): Assertion {
  let statement: unknown;
  try {
    statement = JSON.parse(text);
  } catch (err) {
    throw invalid(`cannot parse the assertion input as JSON: ${(err as Error).message}`);
  }
  return signStatement(statement, signer, options);
}

function reformatJSON(raw: string): string {
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch (err) {
    throw invalid(`cannot reformat body: cannot unmarshal unformatted JSON: ${(err as Error).message}`);
  }
  const sort = (x: unknown): unknown =>
    Array.isArray(x)
      ? x.map(sort)
      : x !== null && typeof x === 'object'
        ? Object.fromEntries(Object.keys(x).sort().map((k) => [k, sort((x as Record<string, unknown>)[k])]))
        : x;
  return JSON.stringify(sort(v), null, 2);
}
