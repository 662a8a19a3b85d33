// Minimal OpenPGP (RFC 4880) packet framing: what keys and signatures in
// assertions need, and nothing else.

/** OpenPGP packet tags used by assertions. */
export const packetTag = { signature: 2, publicKey: 6 } as const;

/** One packet found in a byte string. */
export interface RawPacket {
  tag: number;
  body: Uint8Array;
  /** offset just after the packet */
  end: number;
}

/** Reads one packet (old or new format header) at offset; returns an error text on failure. */
export function readPacket(bytes: Uint8Array, offset = 0): RawPacket | string {
  const first = bytes[offset];
  if (first === undefined) return 'EOF';
  if ((first & 0x80) === 0) return 'tag byte does not have MSB set';
  let pos = offset + 1;
  let tag: number;
  let length: number;
  if (first & 0x40) {
    tag = first & 0x3f;
    const b0 = bytes[pos++];
    if (b0 === undefined) return 'unexpected EOF';
    if (b0 < 192) {
      length = b0;
    } else if (b0 < 224) {
      const b1 = bytes[pos++];
      if (b1 === undefined) return 'unexpected EOF';
      length = ((b0 - 192) << 8) + b1 + 192;
    } else if (b0 === 255) {
      if (pos + 4 > bytes.length) return 'unexpected EOF';
      length = readUint32(bytes, pos);
      pos += 4;
    } else {
      return 'partial body lengths are not supported';
    }
  } else {
    tag = (first & 0x3f) >> 2;
    const lengthType = first & 3;
    if (lengthType === 3) return 'indeterminate packet lengths are not supported';
    const size = 1 << lengthType;
    if (pos + size > bytes.length) return 'unexpected EOF';
    length = 0;
    for (let i = 0; i < size; i++) length = length * 256 + (bytes[pos + i] as number);
    pos += size;
  }
  if (pos + length > bytes.length) return 'unexpected EOF';
  return { tag, body: bytes.subarray(pos, pos + length), end: pos + length };
}

/** Serializes a packet with a new-format header, as Go's openpgp/packet does. */
export function writePacket(tag: number, body: Uint8Array): Uint8Array {
  const n = body.length;
  let header: number[];
  if (n < 192) header = [0xc0 | tag, n];
  else if (n < 8384) header = [0xc0 | tag, ((n - 192) >> 8) + 192, (n - 192) & 0xff];
  else header = [0xc0 | tag, 255, (n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
  const out = new Uint8Array(header.length + n);
  out.set(header, 0);
  out.set(body, header.length);
  return out;
}

/** Reads a big-endian uint32. */
export function readUint32(bytes: Uint8Array, pos: number): number {
  return (
    (((bytes[pos] as number) << 24) >>> 0) +
    ((bytes[pos + 1] as number) << 16) +
    ((bytes[pos + 2] as number) << 8) +
    (bytes[pos + 3] as number)
  );
}

/** Big-endian uint32 bytes. */
export function uint32Bytes(n: number): Uint8Array {
  return Uint8Array.of((n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
}

/** Reads an MPI (2-byte bit count, then the bytes) at pos; null when truncated. */
export function readMPI(bytes: Uint8Array, pos: number): { value: Uint8Array; bitLength: number; end: number } | null {
  if (pos + 2 > bytes.length) return null;
  const bitLength = ((bytes[pos] as number) << 8) | (bytes[pos + 1] as number);
  const len = (bitLength + 7) >> 3;
  if (pos + 2 + len > bytes.length) return null;
  return { value: bytes.subarray(pos + 2, pos + 2 + len), bitLength, end: pos + 2 + len };
}

/** Strips leading zero bytes: the canonical big-endian form of an integer. */
export function stripLeadingZeros(value: Uint8Array): Uint8Array {
  let i = 0;
  while (i < value.length && value[i] === 0) i++;
  return value.subarray(i);
}

/** Writes an MPI in canonical form (minimal bytes, exact bit count). */
export function writeMPI(value: Uint8Array): Uint8Array {
  const v = stripLeadingZeros(value);
  const bits = v.length === 0 ? 0 : (v.length - 1) * 8 + (32 - Math.clz32(v[0] as number));
  return writeMPIWithBitLength(v, bits);
}

/** Writes an MPI with an explicit bit count (Go's signer writes 8 * len(bytes)). */
export function writeMPIWithBitLength(value: Uint8Array, bitLength: number): Uint8Array {
  const out = new Uint8Array(2 + value.length);
  out[0] = (bitLength >> 8) & 0xff;
  out[1] = bitLength & 0xff;
  out.set(value, 2);
  return out;
}

/** Concatenates byte arrays. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
