// The decoded assertion: plain data plus a typed view made by its type's rules.

import type { Headers } from './headers.js';
import type { AssertionInfo } from './registry.js';
import type { SignaturePacket } from './signature.js';

/** What a type's rules see: headers (with defaults filled in), body and the parsed iteration numbers. */
export interface AssertionParts {
  readonly headers: Readonly<Headers>;
  readonly body: Uint8Array;
  readonly format: number;
  readonly revision: number;
}

/** A decoded (or freshly signed) assertion, checked against its type's rules. */
export interface Assertion<I extends AssertionInfo = AssertionInfo> extends AssertionParts {
  readonly type: I['type'];
  /** the signed bytes: from "type:" to the last header line or body byte */
  readonly content: Uint8Array;
  /** the signature block (wrapped base64), without the trailing newline */
  readonly signature: string;
  /** '' for types without an authority (account-key-request, serial-request...) */
  readonly authorityId: string;
  readonly signKeyId: string;
  /** the type's typed view of the headers (model snaps, key validity...) */
  readonly info: I;
}

const signatures = new WeakMap<Assertion, SignaturePacket>();

/** Remembers the parsed signature packet of an assertion (parsed once at decode time). */
export function rememberSignature(a: Assertion, sig: SignaturePacket): void {
  signatures.set(a, sig);
}

/** The parsed signature packet remembered for an assertion, if any. */
export function rememberedSignature(a: Assertion): SignaturePacket | undefined {
  return signatures.get(a);
}

/** The string value of a header, '' when absent or not a string (snapd's HeaderString). */
export function headerString(a: AssertionParts, name: string): string {
  const v = a.headers[name];
  return typeof v === 'string' ? v : '';
}
