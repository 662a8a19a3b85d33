// OpenPGP v4 signature packets as assertions carry them, and the exact bytes
// the signature hash covers.

import { decodeV1Packet, goPacketTypeName } from './pubkey.js';
import { assertsError } from './errors.js';
import { concatBytes, packetTag, readMPI, readUint32, uint32Bytes } from './packets.js';

/** OpenPGP hash algorithm ids and their node names. */
export const pgpHashes: Record<number, string> = { 2: 'sha1', 8: 'sha256', 9: 'sha384', 10: 'sha512', 11: 'sha224' };

/** A parsed signature packet: what verification needs and what tests inspect. */
export interface SignaturePacket {
  readonly sigType: number;
  readonly pubKeyAlgo: number;
  readonly hashAlgo: number;
  /** version .. end of hashed subpackets: the signed part of the packet */
  readonly hashedPart: Uint8Array;
  readonly creationTime: Date;
  /** issuer key id from the unhashed or hashed subpackets, when present */
  readonly issuerKeyId: Uint8Array | null;
  readonly hashTag: Uint8Array;
  /** the RSA signature value as stored (may be shorter than the modulus) */
  readonly rsaSignature: Uint8Array;
  readonly rsaBitLength: number;
}

function fail(message: string): never {
  throw assertsError('invalid-signature', message);
}

/** Decodes the signature block of an assertion into its packet, with snapd's error texts. */
export function decodeSignature(text: string): SignaturePacket {
  const pkt = decodeV1Packet(text, 'signature');
  if (pkt.tag !== packetTag.signature) fail(`expected signature, got instead: ${goPacketTypeName(pkt.tag)}`);
  return parseSignatureBody(pkt.body);
}

function parseSignatureBody(b: Uint8Array): SignaturePacket {
  const bad = (why: string): never => fail(`cannot decode signature: ${why}`);
  if (b.length < 6) bad('unexpected EOF');
  if (b[0] !== 4) bad(`signature packet version ${b[0]} is not supported, only 4 is`);
  const sigType = b[1] as number;
  const pubKeyAlgo = b[2] as number;
  const hashAlgo = b[3] as number;
  if (pubKeyAlgo !== 1 && pubKeyAlgo !== 3) bad(`public key algorithm ${pubKeyAlgo} is not supported, assertions use RSA`);
  if (!pgpHashes[hashAlgo]) bad(`hash algorithm ${hashAlgo} is not supported`);
  const hashedLen = ((b[4] as number) << 8) | (b[5] as number);
  const hashedEnd = 6 + hashedLen;
  if (hashedEnd + 2 > b.length) bad('unexpected EOF');
  const unhashedLen = ((b[hashedEnd] as number) << 8) | (b[hashedEnd + 1] as number);
  const unhashedEnd = hashedEnd + 2 + unhashedLen;
  if (unhashedEnd + 2 > b.length) bad('unexpected EOF');
  const found = { creationTime: null as Date | null, issuer: null as Uint8Array | null };
  parseSubpackets(b.subarray(6, hashedEnd), true, found, bad);
  parseSubpackets(b.subarray(hashedEnd + 2, unhashedEnd), false, found, bad);
  if (!found.creationTime) bad('no creation time in signature');
  const hashTag = b.subarray(unhashedEnd, unhashedEnd + 2);
  const mpi = readMPI(b, unhashedEnd + 2);
  if (!mpi) return bad('unexpected EOF');
  return {
    sigType,
    pubKeyAlgo,
    hashAlgo,
    hashedPart: b.subarray(0, hashedEnd),
    creationTime: found.creationTime as Date,
    issuerKeyId: found.issuer,
    hashTag,
    rsaSignature: mpi.value,
    rsaBitLength: mpi.bitLength,
  };
}

function parseSubpackets(
  data: Uint8Array,
  hashed: boolean,
  found: { creationTime: Date | null; issuer: Uint8Array | null },
  bad: (why: string) => never,
): void {
  let pos = 0;
  while (pos < data.length) {
    const b0 = data[pos] as number;
    let len: number;
    if (b0 < 192) {
      len = b0;
      pos += 1;
    } else if (b0 < 255) {
      if (pos + 2 > data.length) bad('signature subpacket truncated');
      len = ((b0 - 192) << 8) + (data[pos + 1] as number) + 192;
      pos += 2;
    } else {
      if (pos + 5 > data.length) bad('signature subpacket truncated');
      len = readUint32(data, pos + 1);
      pos += 5;
    }
    if (len === 0 || pos + len > data.length) bad('signature subpacket truncated');
    const type = (data[pos] as number) & 0x7f;
    const critical = ((data[pos] as number) & 0x80) !== 0;
    const payload = data.subarray(pos + 1, pos + len);
    if (type === 2) {
      if (!hashed) bad('signature creation time not in hashed area');
      if (payload.length !== 4) bad('signature creation time not four bytes');
      found.creationTime = new Date(readUint32(payload, 0) * 1000);
    } else if (type === 16) {
      if (payload.length !== 8) bad('issuer subpacket with bad length');
      found.issuer = payload;
    } else if (critical && ![27, 33].includes(type)) {
      bad(`unknown critical signature subpacket type ${type}`);
    }
    pos += len;
  }
}

/** The bytes hashed for a v4 signature: content, the signed packet part, and the trailer. */
export function signatureHashInput(content: Uint8Array, hashedPart: Uint8Array): Uint8Array {
  return concatBytes([content, hashedPart, Uint8Array.of(4, 0xff), uint32Bytes(hashedPart.length)]);
}
