import type { ByteWrite } from '../byte-write.js';
import { imageError } from '../errors.js';

/**
 * The MBR partition table: disk signature at byte 440, four 16-byte entries
 * from byte 446, and 0x55AA at 510. Only bytes 440..511 are written, so boot
 * code already in the first 440 bytes (the pc gadget's mbr structure) stays.
 */

/** First byte the MBR encoder writes: the disk signature. */
export const mbrTableStart = 440;
const entriesStart = 446;

export interface MbrPartition {
  /** First sector (LBA). */
  start: number;
  /** Length in sectors. */
  sectors: number;
  /** Partition type byte, e.g. 0x0C (FAT32 LBA), 0x83 (Linux). */
  type: number;
  bootable: boolean;
}

export interface MbrTable {
  /** Sectors on the disk, to check partitions fit. */
  diskSectors: number;
  diskSignature: number;
  partitions: MbrPartition[];
}

/** CHS address for an LBA with the customary 255 heads x 63 sectors geometry, capped at 1023/254/63. */
export function chsBytes(lba: number): [number, number, number] {
  let c = Math.floor(lba / (255 * 63));
  let h = Math.floor(lba / 63) % 255;
  let s = (lba % 63) + 1;
  if (c > 1023) {
    c = 1023;
    h = 254;
    s = 63;
  }
  return [h, (s & 0x3f) | ((c >> 2) & 0xc0), c & 0xff];
}

/** Writes one 16-byte partition entry into `entry`. */
export function writeMbrEntry(entry: Uint8Array, p: MbrPartition): void {
  const view = new DataView(entry.buffer, entry.byteOffset, 16);
  entry[0] = p.bootable ? 0x80 : 0x00;
  entry.set(chsBytes(p.start), 1);
  entry[4] = p.type;
  entry.set(chsBytes(p.start + p.sectors - 1), 5);
  view.setUint32(8, p.start, true);
  view.setUint32(12, p.sectors, true);
}

function fail(message: string): never {
  throw imageError('invalid-partition-table', message);
}

/** Encodes an MBR partition table (at most 4 primary partitions) as the bytes to write at offset 440. */
export function encodeMbr(table: MbrTable): ByteWrite[] {
  if (table.partitions.length > 4) {
    fail(`cannot create an MBR partition table with ${table.partitions.length} partitions: MBR holds at most 4 primary partitions; use schema gpt or drop structures`);
  }
  const sorted = [...table.partitions].sort((a, b) => a.start - b.start);
  for (const [i, p] of sorted.entries()) {
    if (!Number.isInteger(p.type) || p.type <= 0 || p.type > 0xff) fail(`cannot use MBR partition type ${p.type}: use a byte from 0x01 to 0xFF`);
    if (p.start < 1 || p.sectors < 1) fail(`cannot place MBR partition at sector ${p.start} with ${p.sectors} sectors: partitions start after sector 0 and are not empty`);
    if (p.start + p.sectors > table.diskSectors) {
      fail(`cannot place MBR partition at sectors ${p.start}-${p.start + p.sectors - 1}: the disk has ${table.diskSectors} sectors; make the image larger`);
    }
    if (p.start > 0xffffffff || p.sectors > 0xffffffff) fail(`cannot place MBR partition at sector ${p.start} with ${p.sectors} sectors: MBR addresses only 2^32 sectors; use schema gpt`);
    const prev = sorted[i - 1];
    if (prev && p.start < prev.start + prev.sectors) fail(`cannot place MBR partition at sector ${p.start}: it overlaps the partition at sector ${prev.start}`);
  }
  const bytes = new Uint8Array(512 - mbrTableStart);
  new DataView(bytes.buffer).setUint32(0, table.diskSignature >>> 0, true);
  for (const [i, p] of table.partitions.entries()) {
    writeMbrEntry(bytes.subarray(entriesStart - mbrTableStart + 16 * i, entriesStart - mbrTableStart + 16 * (i + 1)), p);
  }
  bytes[510 - mbrTableStart] = 0x55;
  bytes[511 - mbrTableStart] = 0xaa;
  return [{ offset: mbrTableStart, data: bytes }];
}
