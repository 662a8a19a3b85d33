// RSA public keys as assertions carry them: the account-key body form and the
// SHA3-384 key id (sign-key-sha3-384 / public-key-sha3-384).

import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { Buffer } from 'node:buffer';
import type { Key as OpenPGPKey } from 'openpgp';
import { decodeBase64Strict, encodeV1 } from './base64.js';
import { latin1Text } from './bytes.js';
import { assertsError } from './errors.js';
import { concatBytes, packetTag, readMPI, readPacket, stripLeadingZeros, uint32Bytes, writeMPI, writePacket } from './packets.js';

/** The creation time every assertion key packet is normalized to (snapd's v1FixedTimestamp). */
export const v1FixedTimestamp = new Date('2016-01-01T00:00:00Z');

/** Raw RSA public key material, big-endian. */
export interface RsaPublicKey {
  readonly n: Uint8Array;
  readonly e: Uint8Array;
}

/** An RSA public key with its assertion key id. */
export interface AssertsPublicKey extends RsaPublicKey {
  /** base64url SHA3-384 of 0x01 + the normalized public-key packet */
  readonly id: string;
  /** modulus size in bits */
  readonly bits: number;
}

const pgpRSA = 1;

/** The OpenPGP v4 RSA public-key packet body with the given creation time. */
export function publicKeyPacketBody(key: RsaPublicKey, created: Date = v1FixedTimestamp): Uint8Array {
  const time = uint32Bytes(Math.floor(created.getTime() / 1000));
  return concatBytes([Uint8Array.of(4), time, Uint8Array.of(pgpRSA), writeMPI(key.n), writeMPI(key.e)]);
}

/** The serialized public-key packet (new-format header) snapd hashes and embeds. */
export function publicKeyPacket(key: RsaPublicKey, created: Date = v1FixedTimestamp): Uint8Array {
  return writePacket(packetTag.publicKey, publicKeyPacketBody(key, created));
}

/** Computes the assertion key id of a public key, as sign-key-sha3-384 names it. */
export function publicKeyId(key: RsaPublicKey): string {
  const h = createHash('sha3-384');
  h.update(Uint8Array.of(1));
  h.update(publicKeyPacket(key));
  return h.digest('base64url');
}

/** The 8-byte OpenPGP key id (end of the v4 fingerprint) of a key with the given creation time. */
export function openpgpKeyId(key: RsaPublicKey, created: Date = v1FixedTimestamp): Uint8Array {
  const body = publicKeyPacketBody(key, created);
  const h = createHash('sha1');
  h.update(Uint8Array.of(0x99, (body.length >> 8) & 0xff, body.length & 0xff));
  h.update(body);
  return new Uint8Array(h.digest().subarray(12));
}

/** Builds the AssertsPublicKey (with its id) from raw RSA material. */
export function assertsPublicKey(key: RsaPublicKey): AssertsPublicKey {
  const n = stripLeadingZeros(key.n);
  const e = stripLeadingZeros(key.e);
  const bits = n.length === 0 ? 0 : (n.length - 1) * 8 + (32 - Math.clz32(n[0] as number));
  return { n, e, bits, id: publicKeyId({ n, e }) };
}

/** Encodes a public key as an account-key body (base64 of 0x01 + packet, 76 columns). */
export function encodePublicKey(key: RsaPublicKey): string {
  return encodeV1(publicKeyPacket(key));
}

const goPacketTypes: Record<number, string> = {
  1: '*packet.EncryptedKey',
  2: '*packet.Signature',
  5: '*packet.PrivateKey',
  6: '*packet.PublicKey',
  13: '*packet.UserId',
  14: '*packet.PublicKey',
};

/** Decodes one "v1" blob (base64 of 0x01 + one packet), with snapd's error texts. */
export function decodeV1Packet(text: string, kind: string): { tag: number; body: Uint8Array } {
  const fail = (message: string) => assertsError(kind === 'signature' ? 'invalid-signature' : 'invalid-key', message);
  if (text.length === 0) throw fail(`cannot decode ${kind}: no data`);
  const bytes = decodeBase64Strict(text);
  if (!(bytes instanceof Uint8Array)) {
    throw fail(`cannot decode ${kind}: illegal base64 data at input byte ${bytes.badOffset}`);
  }
  if (bytes.length === 0) throw fail(`cannot decode ${kind}: base64 without data`);
  if (bytes[0] !== 1) throw fail(`unsupported ${kind} format version: ${bytes[0]}`);
  const pkt = readPacket(bytes, 1);
  if (typeof pkt === 'string') throw fail(`cannot decode ${kind}: ${pkt}`);
  if (pkt.end !== bytes.length) throw fail(`${kind} has spurious trailing data`);
  return { tag: pkt.tag, body: pkt.body };
}

/** Describes a packet tag the way Go's %T would name the parsed packet. */
export function goPacketTypeName(tag: number): string {
  return goPacketTypes[tag] ?? `*packet.OpaquePacket`;
}

/** Decodes an account-key body back to a usable RSA public key. */
export function decodePublicKey(body: string | Uint8Array): AssertsPublicKey {
  const text = typeof body === 'string' ? body : latin1Text(body);
  const pkt = decodeV1Packet(text, 'public key');
  if (pkt.tag !== packetTag.publicKey) {
    throw assertsError('invalid-key', `expected public key, got instead: ${goPacketTypeName(pkt.tag)}`);
  }
  const b = pkt.body;
  if (b[0] !== 4) throw assertsError('invalid-key', `cannot decode public key: unsupported public key version: ${b[0]}`);
  const algo = b[5] as number;
  if (algo !== 1 && algo !== 2 && algo !== 3) {
    throw assertsError('invalid-key', `expected RSA public key, got instead: public key algorithm ${algo}`);
  }
  const n = readMPI(b, 6);
  const e = n && readMPI(b, n.end);
  if (!n || !e) throw assertsError('invalid-key', 'cannot decode public key: unexpected EOF');
  return assertsPublicKey({ n: n.value, e: e.value });
}

/** Takes the RSA public key out of an openpgp.js key (primary key). */
export function publicKeyFromOpenPGP(key: OpenPGPKey): AssertsPublicKey {
  const params = key.keyPacket.publicParams as { n?: Uint8Array; e?: Uint8Array };
  const algo = key.keyPacket.algorithm as number;
  if ((algo !== 1 && algo !== 2 && algo !== 3) || !params.n || !params.e) {
    throw assertsError('invalid-key', `cannot use key ${key.getKeyID().toHex()}: assertion keys must be RSA keys`);
  }
  return assertsPublicKey({ n: params.n, e: params.e });
}

/** Takes the RSA public key out of a node KeyObject (public or private). */
export function publicKeyFromKeyObject(key: KeyObject): AssertsPublicKey {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  if (pub.asymmetricKeyType !== 'rsa') {
    throw assertsError('invalid-key', `cannot use a ${pub.asymmetricKeyType ?? 'unknown'} key: assertion keys must be RSA keys`);
  }
  const jwk = pub.export({ format: 'jwk' });
  return assertsPublicKey({
    n: new Uint8Array(Buffer.from(jwk.n ?? '', 'base64url')),
    e: new Uint8Array(Buffer.from(jwk.e ?? '', 'base64url')),
  });
}

const keyObjects = new WeakMap<RsaPublicKey, KeyObject>();

/** The node KeyObject for a public key, built once per key object (verification is hot). */
export function publicKeyObject(key: RsaPublicKey): KeyObject {
  let obj = keyObjects.get(key);
  if (!obj) {
    obj = createPublicKey({
      key: { kty: 'RSA', n: Buffer.from(key.n).toString('base64url'), e: Buffer.from(key.e).toString('base64url') },
      format: 'jwk',
    });
    keyObjects.set(key, obj);
  }
  return obj;
}
