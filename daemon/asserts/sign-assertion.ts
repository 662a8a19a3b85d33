// Signing an assertion from headers and body: build the content, sign it,
// and check the result against the type's rules.

import type { Assertion } from './assertion.js';
import { rememberSignature } from './assertion.js';
import { withPrefix } from './errors.js';
import { buildContent } from './encode.js';
import { signContent, type Signer, type SignOptions } from './sign.js';
import { decodeSignature } from './signature.js';

/** Signs headers (+ body) with a key: a pure function of its inputs, the time included. */
export function signAssertion(
  typeName: string,
  headers: Readonly<Record<string, unknown>>,
  body: string | Uint8Array | undefined,
  signer: Signer,
  options: SignOptions,
): Assertion {
  const unsigned = buildContent(typeName, headers, body, signer.publicKey.id);
  const { type, headers: final, content, format, revision } = unsigned;
  const authorityId = type.noAuthority ? '' : (final['authority-id'] as string);
  const info = withPrefix(`cannot assemble assertion ${type.name}: `, () =>
    type.assemble({ headers: final, body: unsigned.body, format, revision, authorityId }),
  );
  const signature = signContent(content, signer, options);
  const a: Assertion = {
    type: type.name,
    headers: final,
    body: unsigned.body,
    content,
    signature,
    format,
    revision,
    authorityId,
    signKeyId: signer.publicKey.id,
    info,
  };
  rememberSignature(a, decodeSignature(signature));
  return a;
}
