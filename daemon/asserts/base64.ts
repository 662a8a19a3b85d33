// The "v1" wrapping snapd uses for keys and signatures: base64 (standard,
// padded) of 0x01 followed by one OpenPGP packet, wrapped at 76 columns.

import { Buffer } from 'node:buffer';

/** Line width of base64 blocks in assertions (snapd's maxEncodeLineLength). */
export const base64LineLength = 76;

const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const index = new Int16Array(256).fill(-1);
for (let i = 0; i < alphabet.length; i++) index[alphabet.charCodeAt(i)] = i;

/** Encodes 0x01 + data as wrapped base64, the body form of keys and signatures. */
export function encodeV1(data: Uint8Array): string {
  const flat = Buffer.concat([Uint8Array.of(1), data]).toString('base64');
  const lines: string[] = [];
  for (let off = 0; off < flat.length; off += base64LineLength) {
    lines.push(flat.slice(off, off + base64LineLength));
  }
  return lines.join('\n');
}

/**
 * Decodes standard padded base64, skipping newlines, rejecting anything else,
 * including non-zero padding bits, so that no two texts decode to the same bytes.
 * Returns the offending input offset on failure, as Go's CorruptInputError does.
 */
export function decodeBase64Strict(text: string): Uint8Array | { badOffset: number } {
  const out = new Uint8Array(Math.floor((text.length * 3) / 4) + 3);
  let n = 0;
  let acc = 0;
  let bits = 0;
  let quantum = 0;
  let padding = 0;
  let lastDataOffset = -1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10 || c === 13) continue;
    if (c === 61) {
      // '=' is only valid as the last one or two characters of a quantum of 4
      if (quantum < 2 || padding + quantum >= 4) return { badOffset: i };
      padding++;
      if ((quantum + padding) % 4 === 0) {
        quantum = 0;
      }
      continue;
    }
    if (padding > 0) return { badOffset: i };
    const v = c < 256 ? (index[c] as number) : -1;
    if (v < 0) return { badOffset: i };
    acc = ((acc << 6) | v) & 0x3fff;
    bits += 6;
    lastDataOffset = i;
    if (bits >= 8) {
      bits -= 8;
      out[n++] = (acc >> bits) & 0xff;
    }
    quantum = (quantum + 1) % 4;
  }
  if (padding > 0 && quantum !== 0) return { badOffset: text.length };
  if (padding === 0 && quantum !== 0) return { badOffset: text.length };
  if (bits > 0 && (acc & ((1 << bits) - 1)) !== 0) return { badOffset: lastDataOffset };
  return out.subarray(0, n);
}
