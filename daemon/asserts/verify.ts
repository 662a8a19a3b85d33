// Packet-level RSA verification of assertion signatures. openpgp.js's
// high-level verify cannot be used: key bodies carry no user id and real
// signatures name issuer key ids that do not match the normalized 2016 packet.

import { constants, createHash, verify } from 'node:crypto';
import { assertsError } from './errors.js';
import { publicKeyObject, type AssertsPublicKey } from './pubkey.js';
import { pgpHashes, signatureHashInput, type SignaturePacket } from './signature.js';

function fail(why: string): never {
  throw assertsError('invalid-signature', `failed signature verification: openpgp: invalid signature: ${why}`);
}

/** Verifies a decoded signature over the content bytes with the given key; throws when it does not hold. */
export function verifySignature(content: Uint8Array, sig: SignaturePacket, key: AssertsPublicKey): void {
  const hashName = pgpHashes[sig.hashAlgo] as string;
  const input = signatureHashInput(content, sig.hashedPart);
  const digest = createHash(hashName).update(input).digest();
  if (digest[0] !== sig.hashTag[0] || digest[1] !== sig.hashTag[1]) fail("hash tag doesn't match");
  const k = (key.bits + 7) >> 3;
  if (sig.rsaSignature.length > k) fail('RSA verification failure');
  const padded = new Uint8Array(k);
  padded.set(sig.rsaSignature, k - sig.rsaSignature.length);
  const ok = verify(hashName, input, { key: publicKeyObject(key), padding: constants.RSA_PKCS1_PADDING }, padded);
  if (!ok) fail('RSA verification failure');
}
