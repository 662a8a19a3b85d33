import type { ByteWrite } from '../byte-write.js';
import { imageError } from '../errors.js';
import { crc32 } from './crc32.js';
import { guidToBytes } from './guid.js';
import { mbrTableStart, writeMbrEntry } from './mbr.js';

/**
 * The GUID partition table: a protective MBR in sector 0, the primary header
 * in LBA 1 and its 128-entry array from LBA 2, and the backup array and
 * header in the last sectors of the disk, all with their CRC-32s.
 */

const entryCount = 128;
const entrySize = 128;
const headerSize = 92;
const maxNameUnits = 36;

export interface GptPartition {
  /** First sector (LBA). */
  start: number;
  /** Length in sectors. */
  sectors: number;
  typeGuid: string;
  partitionGuid: string;
  /** Partition name, at most 36 UTF-16 code units. */
  name: string;
  /** Attribute bits (bit 0 required, bit 2 legacy BIOS bootable, 48-63 type-specific). */
  attributes?: bigint;
}

export interface GptTable {
  sectorSize: 512 | 4096;
  /** Sectors on the disk; the backup header goes in the last one. */
  diskSectors: number;
  diskGuid: string;
  partitions: GptPartition[];
}

/** LBAs the table uses for a disk of the given size. */
export interface GptGeometry {
  entrySectors: number;
  firstUsable: number;
  lastUsable: number;
  backupEntries: number;
  backupHeader: number;
}

/** Computes where the primary and backup structures sit and which sectors partitions may use. */
export function gptGeometry(sectorSize: number, diskSectors: number): GptGeometry {
  const entrySectors = Math.ceil((entryCount * entrySize) / sectorSize);
  const backupHeader = diskSectors - 1;
  const backupEntries = backupHeader - entrySectors;
  return { entrySectors, firstUsable: 2 + entrySectors, lastUsable: backupEntries - 1, backupEntries, backupHeader };
}

function fail(message: string): never {
  throw imageError('invalid-partition-table', message);
}

function encodeName(name: string): Uint8Array {
  if (name.length > maxNameUnits) {
    fail(`cannot use partition name "${name}": GPT names hold at most ${maxNameUnits} UTF-16 code units; shorten the structure name`);
  }
  const out = new Uint8Array(maxNameUnits * 2);
  const view = new DataView(out.buffer);
  for (let i = 0; i < name.length; i++) view.setUint16(2 * i, name.charCodeAt(i), true);
  return out;
}

function encodeEntries(table: GptTable, geo: GptGeometry): Uint8Array {
  if (table.partitions.length > entryCount) fail(`cannot create a GPT with ${table.partitions.length} partitions: it holds at most ${entryCount}`);
  const sorted = [...table.partitions].sort((a, b) => a.start - b.start);
  for (const [i, p] of sorted.entries()) {
    const last = p.start + p.sectors - 1;
    if (p.sectors < 1 || p.start < geo.firstUsable || last > geo.lastUsable) {
      fail(`cannot place GPT partition "${p.name}" at sectors ${p.start}-${last}: usable sectors are ${geo.firstUsable}-${geo.lastUsable}; make the image larger or move the structure`);
    }
    const prev = sorted[i - 1];
    if (prev && p.start < prev.start + prev.sectors) fail(`cannot place GPT partition "${p.name}" at sector ${p.start}: it overlaps partition "${prev.name}"`);
  }
  const bytes = new Uint8Array(entryCount * entrySize);
  for (const [i, p] of table.partitions.entries()) {
    const e = bytes.subarray(i * entrySize, (i + 1) * entrySize);
    const view = new DataView(e.buffer, e.byteOffset, entrySize);
    e.set(guidToBytes(p.typeGuid), 0);
    e.set(guidToBytes(p.partitionGuid), 16);
    view.setBigUint64(32, BigInt(p.start), true);
    view.setBigUint64(40, BigInt(p.start + p.sectors - 1), true);
    view.setBigUint64(48, BigInt.asUintN(64, p.attributes ?? 0n), true);
    e.set(encodeName(p.name), 56);
  }
  return bytes;
}

function encodeHeader(table: GptTable, geo: GptGeometry, entriesCrc: number, primary: boolean): Uint8Array {
  const h = new Uint8Array(table.sectorSize);
  const view = new DataView(h.buffer);
  h.set(new TextEncoder().encode('EFI PART'), 0);
  view.setUint32(8, 0x00010000, true);
  view.setUint32(12, headerSize, true);
  view.setBigUint64(24, BigInt(primary ? 1 : geo.backupHeader), true);
  view.setBigUint64(32, BigInt(primary ? geo.backupHeader : 1), true);
  view.setBigUint64(40, BigInt(geo.firstUsable), true);
  view.setBigUint64(48, BigInt(geo.lastUsable), true);
  h.set(guidToBytes(table.diskGuid), 56);
  view.setBigUint64(72, BigInt(primary ? 2 : geo.backupEntries), true);
  view.setUint32(80, entryCount, true);
  view.setUint32(84, entrySize, true);
  view.setUint32(88, entriesCrc, true);
  view.setUint32(16, crc32(h.subarray(0, headerSize)), true);
  return h;
}

function protectiveMbr(diskSectors: number): Uint8Array {
  const bytes = new Uint8Array(512 - mbrTableStart);
  const entry = bytes.subarray(446 - mbrTableStart, 462 - mbrTableStart);
  writeMbrEntry(entry, { start: 1, sectors: Math.min(diskSectors - 1, 0xffffffff), type: 0xee, bootable: false });
  bytes[510 - mbrTableStart] = 0x55;
  bytes[511 - mbrTableStart] = 0xaa;
  return bytes;
}

/** Encodes a protective MBR, primary and backup GPT as the byte ranges to write into the disk image. */
export function encodeGpt(table: GptTable): ByteWrite[] {
  const s = table.sectorSize;
  const geo = gptGeometry(s, table.diskSectors);
  if (geo.lastUsable < geo.firstUsable) fail(`cannot create a GPT on a disk of ${table.diskSectors} sectors: it is too small to hold the table`);
  const entries = encodeEntries(table, geo);
  const entriesCrc = crc32(entries);
  return [
    { offset: mbrTableStart, data: protectiveMbr(table.diskSectors) },
    { offset: s, data: encodeHeader(table, geo, entriesCrc, true) },
    { offset: 2 * s, data: entries },
    { offset: geo.backupEntries * s, data: entries },
    { offset: geo.backupHeader * s, data: encodeHeader(table, geo, entriesCrc, false) },
  ];
}
