// The checks every assertion passes, whatever its type (snapd's assemble in
// asserts/asserts.go), then its type's rules.

import type { Assertion } from './assertion.js';
import { rememberSignature } from './assertion.js';
import { isUTF8, utf8Text } from './bytes.js';
import { invalid, withPrefix } from './errors.js';
import { goQuote } from './goformat.js';
import { checkDigest, checkIntWithDefault, checkNotEmptyString, checkPrimaryKey } from './header-checks.js';
import type { Headers } from './headers.js';
import { assertionType, type AssertionType } from './registry.js';
import { decodeSignature } from './signature.js';

export { isUTF8 } from './bytes.js';

/** Parses the format and revision iterations (decimal, no prefix zeros, not negative). */
export function checkIteration(headers: Readonly<Headers>, name: 'format' | 'revision'): number {
  const n = checkIntWithDefault(headers, name, 0);
  if (n < 0) throw invalid(`${name} should be positive: ${n}`);
  return n;
}

/** Checks a JSON body is indented by 2 with keys sorted, as Go's json.MarshalIndent writes it. */
export function checkJSONBody(type: AssertionType, body: Uint8Array): void {
  withPrefix(`assertion ${type.name}: `, () => {
    if (body.length === 0) throw invalid('body must contain JSON');
    let value: unknown;
    const text = utf8Text(body);
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw invalid(`invalid JSON in body: ${(err as Error).message}`);
    }
    if (text !== JSON.stringify(sortKeys(value), null, 2)) {
      throw invalid('JSON in body must be indented with 2 spaces and sort object entries by key');
    }
  });
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]),
    );
  }
  return v;
}

/** Checks decoded parts and builds the Assertion, with snapd's error texts and prefixes. */
export function assemble(headers: Headers, body: Uint8Array, content: Uint8Array, signature: string): Assertion {
  const length = withPrefix('assertion: ', () => checkIntWithDefault(headers, 'body-length', 0));
  if (length !== body.length) {
    throw invalid(`assertion body length and declared body-length don't match: ${body.length} != ${length}`);
  }
  if (!isUTF8(body)) throw invalid('assertion body is not utf8');
  withPrefix('assertion: ', () => checkDigest(headers, 'sign-key-sha3-384'));
  const typeName = withPrefix('assertion: ', () => checkNotEmptyString(headers, 'type'));
  const type = assertionType(typeName);
  if (!type) throw invalid(`unknown assertion type: ${goQuote(typeName)}`);
  if (type.jsonBody) checkJSONBody(type, body);
  let authorityId = '';
  if (!type.noAuthority) {
    authorityId = withPrefix('assertion: ', () => checkNotEmptyString(headers, 'authority-id'));
  } else if (headers['authority-id'] !== undefined) {
    throw invalid(`${goQuote(type.name)} assertion cannot have authority-id set`);
  }
  const format = withPrefix('assertion: ', () => checkIteration(headers, 'format'));
  for (const key of type.primaryKey) {
    const defl = type.optionalPrimaryKeyDefaults[key];
    if (headers[key] === undefined && defl) headers[key] = defl;
    withPrefix(`assertion ${type.name}: `, () => checkPrimaryKey(headers, key));
  }
  const revision = withPrefix('assertion: ', () => checkIteration(headers, 'revision'));
  if (signature.length === 0) throw invalid('empty assertion signature');
  const parts = { headers, body, format, revision, authorityId };
  const info = withPrefix(`assertion ${type.name}: `, () => type.assemble(parts));
  const sig = decodeSignature(signature);
  const a: Assertion = {
    type: type.name,
    headers,
    body,
    content,
    signature,
    format,
    revision,
    authorityId,
    signKeyId: headers['sign-key-sha3-384'] as string,
    info,
  };
  rememberSignature(a, sig);
  return a;
}
