// Encoding assertions: the signed content from headers and body in snapd's
// exact header order, and the final text of one assertion or a stream.

import type { Assertion } from './assertion.js';
import { checkIteration, checkJSONBody } from './assemble.js';
import { isUTF8, utf8Bytes, utf8Text } from './bytes.js';
import { concatBytes } from './packets.js';
import { invalid } from './errors.js';
import { compareBytes, goQuote } from './goformat.js';
import { checkNotEmptyString, checkPrimaryKey } from './header-checks.js';
import { appendEntry, checkHeaderNames, checkHeaderValue, type HeaderValue, type Headers } from './headers.js';
import { assertionType, type AssertionType } from './registry.js';

/** Content ready to be signed, with the headers as they will read once decoded. */
export interface UnsignedAssertion {
  readonly type: AssertionType;
  /** final headers: type, body-length and sign-key-sha3-384 set, defaults normalized */
  readonly headers: Headers;
  readonly body: Uint8Array;
  readonly content: Uint8Array;
  readonly format: number;
  readonly revision: number;
}

const metaHeaders = new Set(['type', 'format', 'authority-id', 'revision', 'body-length', 'sign-key-sha3-384']);

/**
 * Builds the signed content of an assertion from its headers and body, in
 * snapd's header order, with snapd's checks and texts (assembleAndSign).
 */
export function buildContent(
  typeName: string,
  headers: Readonly<Record<string, unknown>>,
  body: string | Uint8Array | undefined,
  signKeyId: string,
): UnsignedAssertion {
  const type = assertionType(typeName);
  if (!type) throw invalid(`unknown assertion type: ${goQuote(typeName)}`);
  headers = withoutUndefined(headers) as Record<string, unknown>;
  for (const [name, value] of Object.entries(headers)) checkHeaderValue(name, value);
  for (const [name, value] of Object.entries(headers)) checkHeaderNames(name, value as HeaderValue);
  const bodyBytes = typeof body === 'string' ? utf8Bytes(body) : (body ?? new Uint8Array(0));
  if (!isUTF8(bodyBytes)) throw invalid('assertion body is not utf8');
  if (type.jsonBody) checkJSONBody(type, bodyBytes);

  const final = structuredClone(headers) as Headers;
  final.type = type.name;
  final['body-length'] = String(bodyBytes.length);
  final['sign-key-sha3-384'] = signKeyId;
  if (!type.noAuthority) checkNotEmptyString(final, 'authority-id');
  else if (final['authority-id'] !== undefined) {
    throw invalid(`${goQuote(type.name)} assertion cannot have authority-id set`);
  }
  const format = checkIteration(final, 'format');
  if (format > type.maxFormat) {
    throw invalid(`cannot sign ${goQuote(type.name)} assertion with format ${format} higher than max supported format ${type.maxFormat}`);
  }
  const suggested = type.suggestFormat(final);
  if (suggested > format) {
    throw invalid(`cannot sign ${goQuote(type.name)} assertion with format set to ${format} lower than min format ${suggested} covering included features`);
  }
  const revision = checkIteration(final, 'revision');

  const out: string[] = [`type: ${type.name}`];
  const write = (name: string) => appendEntry(out, `${name}:`, final[name] as HeaderValue, 0);
  if (format > 0) write('format');
  else delete final.format;
  if (!type.noAuthority) write('authority-id');
  if (revision > 0) write('revision');
  else delete final.revision;
  const written = new Set(metaHeaders);
  for (const key of type.primaryKey) {
    const defl = type.optionalPrimaryKeyDefaults[key];
    if (final[key] === undefined && defl) final[key] = defl;
    const value = checkPrimaryKey(final, key);
    if (value !== defl) write(key);
    written.add(key);
  }
  const others = Object.keys(final).filter((k) => !written.has(k)).sort(compareBytes);
  for (const key of others) write(key);
  if (bodyBytes.length > 0) write('body-length');
  else delete final['body-length'];
  write('sign-key-sha3-384');
  let content = utf8Bytes(out.join(''));
  if (bodyBytes.length > 0) content = concatBytes([content, utf8Bytes('\n\n'), bodyBytes]);
  return { type, headers: final, body: bodyBytes, content, format, revision };
}

// JavaScript callers spell "absent" as undefined; JSON cannot carry it.
function withoutUndefined(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutUndefined);
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(
      Object.entries(v as Record<string, unknown>)
        .filter(([, x]) => x !== undefined)
        .map(([k, x]) => [k, withoutUndefined(x)]),
    );
  }
  return v;
}

/** The text of one assertion: content, blank line, signature, newline. */
export function encodeAssertion(a: Pick<Assertion, 'content' | 'signature'>): string {
  return `${utf8Text(a.content)}\n\n${a.signature}\n`;
}

/** The text of several assertions, separated by blank lines (snapd's Encoder). */
export function encodeStream(assertions: readonly Pick<Assertion, 'content' | 'signature'>[]): string {
  return assertions.map(encodeAssertion).join('\n');
}
