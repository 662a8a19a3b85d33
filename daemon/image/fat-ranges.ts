import type { ByteRange } from '../flash/ranges.js';

/**
 * The byte ranges of a FAT12/16/32 filesystem that hold its content, read
 * from the filesystem itself: the reserved sectors (boot sector, FSInfo,
 * backup boot sector), every FAT, the FAT12/16 root directory, and every
 * allocated cluster. That is what `mkfs.vfat` and `mcopy` write, so the
 * build needs neither a FIEMAP of the image (which must flush it to disk
 * first) nor a scan for non-zero blocks. The whole metadata area is mapped,
 * zeros included: a flasher skips unmapped ranges, and a free FAT entry must
 * read as zero on a card that held something else.
 */

/** Reads `length` bytes at `offset` of the filesystem (short reads only past its end). */
export type ReadAt = (offset: number, length: number) => Promise<Buffer>;

export interface FatGeometry {
  bytesPerSector: number;
  sectorsPerCluster: number;
  reservedSectors: number;
  fats: number;
  sectorsPerFat: number;
  rootDirSectors: number;
  totalSectors: number;
  fatBits: 12 | 16 | 32;
}

/** Reads the BIOS parameter block of a FAT boot sector; throws when it is not one. */
export function fatGeometry(boot: Buffer): FatGeometry {
  const invalid = (why: string) => new Error(`not a FAT filesystem: ${why}`);
  if (boot.length < 512 || boot[510] !== 0x55 || boot[511] !== 0xaa) throw invalid('no boot sector signature');
  const bytesPerSector = boot.readUInt16LE(11);
  const sectorsPerCluster = boot[13]!;
  const reservedSectors = boot.readUInt16LE(14);
  const fats = boot[16]!;
  const rootEntries = boot.readUInt16LE(17);
  const totalSectors = boot.readUInt16LE(19) || boot.readUInt32LE(32);
  const sectorsPerFat = boot.readUInt16LE(22) || boot.readUInt32LE(36);
  if (![512, 1024, 2048, 4096].includes(bytesPerSector)) throw invalid(`bytes per sector ${bytesPerSector}`);
  if (sectorsPerCluster === 0 || (sectorsPerCluster & (sectorsPerCluster - 1)) !== 0) throw invalid(`sectors per cluster ${sectorsPerCluster}`);
  if (reservedSectors === 0 || fats === 0 || sectorsPerFat === 0 || totalSectors === 0) throw invalid('empty reserved, FAT or total sector count');
  const rootDirSectors = Math.ceil((rootEntries * 32) / bytesPerSector);
  const dataSectors = totalSectors - reservedSectors - fats * sectorsPerFat - rootDirSectors;
  if (dataSectors <= 0) throw invalid('no data area');
  const clusters = Math.floor(dataSectors / sectorsPerCluster);
  // The FAT type follows from the cluster count alone (Microsoft's FAT specification).
  const fatBits = clusters < 4085 ? 12 : clusters < 65525 ? 16 : 32;
  return { bytesPerSector, sectorsPerCluster, reservedSectors, fats, sectorsPerFat, rootDirSectors, totalSectors, fatBits };
}

/** The entries of a raw FAT as numbers (FAT32's top four bits are reserved). */
function entries(fat: Buffer, bits: 12 | 16 | 32): (n: number) => number {
  if (bits === 12) {
    return (n) => {
      const v = fat.readUInt16LE(Math.floor((n * 3) / 2));
      return n % 2 === 0 ? v & 0xfff : v >> 4;
    };
  }
  // A typed view (little-endian hosts, as every Ubuntu Core build host is) keeps a 2.4M-cluster table to milliseconds.
  const width = bits / 8;
  const usable = fat.subarray(0, fat.length - (fat.length % width));
  const bytes = usable.byteOffset % width === 0 ? usable : new Uint8Array(usable);
  const table = bits === 32 ? new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4) : new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.length / 2);
  return bits === 32 ? (n) => table[n]! & 0x0fffffff : (n) => table[n]!;
}

function push(out: ByteRange[], start: number, end: number): void {
  const last = out[out.length - 1];
  if (last && last.end === start) last.end = end;
  else out.push({ start, end });
}

/** The ranges (relative to the filesystem's start) of a FAT filesystem's metadata and allocated clusters. */
export async function fatContentRanges(readAt: ReadAt): Promise<ByteRange[]> {
  const g = fatGeometry(await readAt(0, 512));
  const bps = g.bytesPerSector;
  const metadata = (g.reservedSectors + g.fats * g.sectorsPerFat + g.rootDirSectors) * bps;
  const fat = await readAt(g.reservedSectors * bps, g.sectorsPerFat * bps);
  const clusterBytes = g.sectorsPerCluster * bps;
  const clusters = Math.min(Math.floor((g.totalSectors * bps - metadata) / clusterBytes), Math.floor((fat.length * 8) / g.fatBits) - 2);
  const bad = g.fatBits === 32 ? 0x0ffffff7 : g.fatBits === 16 ? 0xfff7 : 0xff7;
  const entry = entries(fat, g.fatBits);
  const used = (c: number) => {
    const e = entry(c);
    return e !== 0 && e !== bad;
  };
  const out: ByteRange[] = [{ start: 0, end: metadata }];
  const end = clusters + 2;
  for (let c = 2; c < end; c++) {
    if (!used(c)) continue;
    const first = c;
    while (c + 1 < end && used(c + 1)) c++;
    push(out, metadata + (first - 2) * clusterBytes, metadata + (c - 1) * clusterBytes);
  }
  return out;
}
