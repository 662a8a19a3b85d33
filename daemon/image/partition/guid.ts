import { createHash } from 'node:crypto';
import { imageError } from '../errors.js';

/**
 * GUIDs as GPT stores them: the first three fields little-endian, the last
 * two as bytes in order. Derived GUIDs come from a seed so that builds are
 * reproducible.
 */

const guidPattern = /^([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})$/i;

/** Encodes a textual GUID into GPT's 16-byte mixed-endian form. */
export function guidToBytes(guid: string): Uint8Array {
  const m = guidPattern.exec(guid);
  if (!m) throw imageError('invalid-partition-table', `cannot use GUID "${guid}": write it as 8-4-4-4-12 hex digits`);
  const hex = (s: string) => Array.from({ length: s.length / 2 }, (_, i) => parseInt(s.slice(2 * i, 2 * i + 2), 16));
  return Uint8Array.from([
    ...hex(m[1]!).reverse(),
    ...hex(m[2]!).reverse(),
    ...hex(m[3]!).reverse(),
    ...hex(m[4]!),
    ...hex(m[5]!),
  ]);
}

/** Decodes GPT's 16-byte mixed-endian form back to an upper-case textual GUID. */
export function guidFromBytes(bytes: Uint8Array): string {
  const hex = (a: number[]) => a.map((b) => b.toString(16).padStart(2, '0')).join('');
  const b = Array.from(bytes.subarray(0, 16));
  return [
    hex(b.slice(0, 4).reverse()),
    hex(b.slice(4, 6).reverse()),
    hex(b.slice(6, 8).reverse()),
    hex(b.slice(8, 10)),
    hex(b.slice(10, 16)),
  ]
    .join('-')
    .toUpperCase();
}

/** A version-4-shaped GUID derived from a seed and a purpose, so the same build gets the same GUIDs. */
export function seededGuid(seed: string, purpose: string): string {
  const d = createHash('sha256').update(`coreforge-guid\0${seed}\0${purpose}`).digest();
  d[6] = (d[6]! & 0x0f) | 0x40;
  d[8] = (d[8]! & 0x3f) | 0x80;
  const h = d.subarray(0, 16).toString('hex').toUpperCase();
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** A non-zero 32-bit MBR disk signature derived from a seed. */
export function seededDiskSignature(seed: string): number {
  const d = createHash('sha256').update(`coreforge-mbr-disk-signature\0${seed}`).digest();
  return d.readUInt32LE(0) || 1;
}
