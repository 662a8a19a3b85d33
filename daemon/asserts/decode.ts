// Decoding assertion text: one assertion (snapd's asserts.Decode) or a stream
// of several separated by blank lines (snapd's asserts.Decoder).

import type { Assertion } from './assertion.js';
import { assemble } from './assemble.js';
import { isUTF8, latin1Text, utf8Bytes, utf8Text } from './bytes.js';
import { CoreforgeError } from '../errors.js';
import { assertsError, invalid, withPrefix, type AssertsErrorKind } from './errors.js';
import { checkIntWithDefault } from './header-checks.js';
import { parseHeaders, type Headers } from './headers.js';

/** Maximum size of the header block (snapd's MaxHeadersSize). */
export const maxHeadersSize = 128 * 1024;
/** Maximum body size (snapd's MaxBodySize). */
export const maxBodySize = 2 * 1024 * 1024;
/** Maximum signature block size (snapd's MaxSignatureSize). */
export const maxSignatureSize = 128 * 1024;

const NL = 10;
const delimiterTooFar = (what: string) =>
  invalid(`error reading assertion ${what}: maximum size exceeded while looking for delimiter "\\n\\n"`);

function toBytes(input: string | Uint8Array): Uint8Array {
  if (typeof input === 'string') return utf8Bytes(input);
  // a plain view, so that decoded parts are Uint8Array even when given a Buffer
  return new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
}

function indexOfNLNL(b: Uint8Array, from: number, limit = b.length): number {
  const end = Math.min(limit, b.length) - 1;
  for (let i = from; i < end; i++) {
    if (b[i] === NL && b[i + 1] === NL) return i;
  }
  return -1;
}

function lastIndexOfNLNL(b: Uint8Array): number {
  for (let i = b.length - 2; i >= 0; i--) {
    if (b[i] === NL && b[i + 1] === NL) return i;
  }
  return -1;
}

function parseHead(head: Uint8Array): Headers {
  return withPrefix('parsing assertion headers: ', () => {
    if (!isUTF8(head)) throw invalid('header is not utf8');
    return parseHeaders(utf8Text(head));
  });
}

function checkBodyLength(headers: Headers): number {
  const length = withPrefix('assertion: ', () => checkIntWithDefault(headers, 'body-length', 0));
  if (length > maxBodySize) throw invalid(`assertion body length ${length} exceeds maximum body size`);
  return length;
}

/**
 * Decodes one assertion. The content/signature split is at the last blank
 * line, the headers/body split at the first; trailing newlines are ignored.
 */
export function decodeAssertion(input: string | Uint8Array): Assertion {
  const bytes = toBytes(input);
  let end = bytes.length;
  while (end > 0 && bytes[end - 1] === NL) end--;
  const text = bytes.subarray(0, end);
  const split = lastIndexOfNLNL(text);
  if (split === -1) {
    if (bytes.length - end >= 2) throw invalid('empty assertion signature');
    throw invalid('assertion content/signature separator not found');
  }
  const content = text.subarray(0, split);
  const signature = text.subarray(split + 2);
  const headEnd = indexOfNLNL(content, 0);
  const head = headEnd === -1 ? content : content.subarray(0, headEnd);
  if (head.length > maxHeadersSize) throw delimiterTooFar('headers');
  const body = headEnd === -1 ? new Uint8Array(0) : content.subarray(headEnd + 2);
  const headers = parseHead(head);
  const length = checkBodyLength(headers);
  if (signature.length > maxSignatureSize) throw delimiterTooFar('signature');
  if (length !== body.length) explainBodyMismatch(bytes, headEnd === -1 ? split : headEnd, length, signature.length);
  return assemble(headers, body, content, latin1Text(signature));
}

// A body-length mismatch is often something else: a missing signature, or
// text after the signature. Say so when the stream framing shows it.
function explainBodyMismatch(bytes: Uint8Array, headEnd: number, length: number, tailLength: number): void {
  if (length > 0 && tailLength === length) throw invalid('empty assertion signature');
  let next: number;
  try {
    next = decodeNext(bytes, 0)[1];
  } catch {
    return;
  }
  while (next < bytes.length && bytes[next] === NL) next++;
  if (next < bytes.length && next > headEnd) {
    throw invalid(
      `unexpected data after the assertion signature at byte ${next}: decode several assertions as a stream`,
    );
  }
}

/** Decodes a stream of assertions separated by blank lines, as snapd's Decoder reads them. */
export function decodeStream(input: string | Uint8Array): Assertion[] {
  const b = toBytes(input);
  const out: Assertion[] = [];
  let pos = 0;
  for (;;) {
    while (pos < b.length && b[pos] === NL) pos++;
    if (pos >= b.length) return out;
    const index = out.length;
    try {
      const [a, next] = decodeNext(b, pos);
      out.push(a);
      pos = next;
    } catch (err) {
      if (err instanceof CoreforgeError) throw assertsError(err.kind as AssertsErrorKind, err.message, { index });
      throw err;
    }
  }
}

/** "{" after optional white space: the JSON statement `sign` takes, given where a signed assertion belongs. */
function looksLikeJSON(b: Uint8Array, start: number): boolean {
  let i = start;
  while (i < b.length && (b[i] === 0x20 || b[i] === 0x09 || b[i] === 0x0a || b[i] === 0x0d)) i++;
  return b[i] === 0x7b;
}

function decodeNext(b: Uint8Array, start: number): [Assertion, number] {
  if (looksLikeJSON(b, start)) {
    throw invalid('this is a JSON statement, not a signed assertion; sign it first: coreforge sign -k KEY FILE.json > FILE.assert');
  }
  const headEnd = indexOfNLNL(b, start, start + maxHeadersSize + 2);
  if (headEnd === -1) {
    if (b.length - start > maxHeadersSize + 1) throw delimiterTooFar('headers');
    throw invalid('unexpected EOF: the assertion headers are not followed by a blank line and a signature');
  }
  const headers = parseHead(b.subarray(start, headEnd));
  const length = checkBodyLength(headers);
  let pos = headEnd + 2;
  let contentEnd = headEnd;
  let body: Uint8Array = new Uint8Array(0);
  if (length > 0) {
    if (pos + length > b.length) throw invalid(`unexpected EOF: the assertion body is shorter than its body-length ${length}`);
    body = b.subarray(pos, pos + length);
    pos += length;
    contentEnd = pos;
    if (!(b[pos] === NL && b[pos + 1] === NL)) throw invalid('missing content/signature separator');
    pos += 2;
  }
  const sigEnd = indexOfNLNL(b, pos, pos + maxSignatureSize + 2);
  if (sigEnd === -1 && b.length - pos > maxSignatureSize + 1) throw delimiterTooFar('signature');
  let sigStop = sigEnd === -1 ? b.length : sigEnd;
  const next = sigEnd === -1 ? b.length : sigEnd + 2;
  if (sigEnd === -1 && sigStop > pos && b[sigStop - 1] === NL) sigStop--;
  const content = b.subarray(start, contentEnd);
  return [assemble(headers, body, content, latin1Text(b.subarray(pos, sigStop))), next];
}
