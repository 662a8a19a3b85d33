// Signing assertion content: one OpenPGP v4 binary-document signature packet,
// RSA PKCS#1 v1.5 over SHA-512, wrapped like snapd does (base64 of 0x01 + packet).

import { createHash, createPrivateKey, sign, type KeyObject } from 'node:crypto';
import { Buffer } from 'node:buffer';
import type { PrivateKey as OpenPGPPrivateKey } from 'openpgp';
import { encodeV1 } from './base64.js';
import { assertsError } from './errors.js';
import {
  concatBytes,
  packetTag,
  stripLeadingZeros,
  uint32Bytes,
  writeMPI,
  writeMPIWithBitLength,
  writePacket,
} from './packets.js';
import {
  openpgpKeyId,
  publicKeyFromKeyObject,
  publicKeyFromOpenPGP,
  type AssertsPublicKey,
} from './pubkey.js';
import { signatureHashInput } from './signature.js';

/** A private key ready to sign assertions. */
export interface Signer {
  /** the public half; its id is the sign-key-sha3-384 of what this signs */
  readonly publicKey: AssertsPublicKey;
  readonly privateKey: KeyObject;
  /** OpenPGP key id put in the issuer subpacket ('gnupg' flavour) */
  readonly issuerKeyId: Uint8Array;
}

/**
 * Which signer's packet layout to reproduce:
 * - 'gnupg': issuer key id in the unhashed subpackets, minimal MPI; what gpg-backed
 *   `snap sign` and Canonical's signing service emit (the default)
 * - 'snapd': no issuer subpacket, MPI as wide as the modulus; what snapd's built-in
 *   Go signer (asserts/crypto.go) emits
 */
export type SignatureFlavour = 'gnupg' | 'snapd';

/** Options of signContent. */
export interface SignOptions {
  /** signature creation time (whole seconds) */
  time: Date;
  flavour?: SignatureFlavour;
}

const sha512 = 10;
const rsa = 1;
const binaryDocument = 0;

/** Signs assertion content and returns the signature block text (no trailing newline). */
export function signContent(content: Uint8Array, signer: Signer, options: SignOptions): string {
  const flavour = options.flavour ?? 'gnupg';
  const seconds = Math.floor(options.time.getTime() / 1000);
  const hashed = concatBytes([Uint8Array.of(5, 2), uint32Bytes(seconds)]);
  const hashedPart = concatBytes([
    Uint8Array.of(4, binaryDocument, rsa, sha512, (hashed.length >> 8) & 0xff, hashed.length & 0xff),
    hashed,
  ]);
  const unhashed = flavour === 'gnupg' ? concatBytes([Uint8Array.of(9, 16), signer.issuerKeyId]) : new Uint8Array(0);
  const input = signatureHashInput(content, hashedPart);
  const hashTag = createHash('sha512').update(input).digest().subarray(0, 2);
  const value = new Uint8Array(sign('sha512', input, signer.privateKey));
  const mpi = flavour === 'gnupg' ? writeMPI(value) : writeMPIWithBitLength(value, value.length * 8);
  const body = concatBytes([
    hashedPart,
    Uint8Array.of((unhashed.length >> 8) & 0xff, unhashed.length & 0xff),
    unhashed,
    hashTag,
    mpi,
  ]);
  return encodeV1(writePacket(packetTag.signature, body));
}

function toBigInt(bytes: Uint8Array): bigint {
  return bytes.length === 0 ? 0n : BigInt(`0x${Buffer.from(bytes).toString('hex')}`);
}

function toB64url(n: bigint): string {
  let hex = n.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  return Buffer.from(hex, 'hex').toString('base64url');
}

function modInverse(a: bigint, m: bigint): bigint {
  let [oldR, r] = [((a % m) + m) % m, m];
  let [oldS, s] = [1n, 0n];
  while (r !== 0n) {
    const q = oldR / r;
    [oldR, r] = [r, oldR - q * r];
    [oldS, s] = [s, oldS - q * s];
  }
  return ((oldS % m) + m) % m;
}

/** Builds a node RSA private KeyObject from OpenPGP key material (n, e, d, p, q). */
export function rsaPrivateKeyObject(params: { n: Uint8Array; e: Uint8Array; d: Uint8Array; p: Uint8Array; q: Uint8Array }): KeyObject {
  const d = toBigInt(params.d);
  const p = toBigInt(params.p);
  const q = toBigInt(params.q);
  return createPrivateKey({
    key: {
      kty: 'RSA',
      n: Buffer.from(stripLeadingZeros(params.n)).toString('base64url'),
      e: Buffer.from(stripLeadingZeros(params.e)).toString('base64url'),
      d: toB64url(d),
      p: toB64url(p),
      q: toB64url(q),
      dp: toB64url(d % (p - 1n)),
      dq: toB64url(d % (q - 1n)),
      qi: toB64url(modInverse(q, p)),
    },
    format: 'jwk',
  });
}

/** Makes a Signer from a decrypted openpgp.js private key; the issuer id is the key's own OpenPGP id. */
export function signerFromOpenPGP(key: OpenPGPPrivateKey): Signer {
  if (!key.isDecrypted()) {
    throw assertsError('invalid-key', `cannot sign with key ${key.getKeyID().toHex()}: it is still encrypted, decrypt it with its passphrase first`);
  }
  const publicKey = publicKeyFromOpenPGP(key);
  const priv = (key.keyPacket as { privateParams?: unknown }).privateParams as { d?: Uint8Array; p?: Uint8Array; q?: Uint8Array } | null;
  if (!priv?.d || !priv.p || !priv.q) {
    throw assertsError('invalid-key', `cannot sign with key ${key.getKeyID().toHex()}: it has no RSA private key material`);
  }
  const privateKey = rsaPrivateKeyObject({ n: publicKey.n, e: publicKey.e, d: priv.d, p: priv.p, q: priv.q });
  return { publicKey, privateKey, issuerKeyId: new Uint8Array(Buffer.from(key.getKeyID().toHex(), 'hex')) };
}

/** Makes a Signer from a node RSA private key; the issuer id is that of its 2016-01-01 key packet. */
export function signerFromKeyObject(privateKey: KeyObject): Signer {
  if (privateKey.type !== 'private') throw assertsError('invalid-key', 'cannot sign with a public key');
  const publicKey = publicKeyFromKeyObject(privateKey);
  return { publicKey, privateKey, issuerKeyId: openpgpKeyId(publicKey) };
}
