// A minimal bmap (1.x and 2.0) reader for flashing: which byte ranges of an image
// hold data, and their checksums. node:crypto is used as pure computation.
import { createHash } from 'node:crypto';
import { flashError } from './errors.js';
import type { ByteRange } from './ranges.js';

/** Hash algorithms bmap files use: sha256 from 2.0, sha1 in 1.x. */
export type BmapChecksumType = 'sha256' | 'sha1';

/** A mapped range of the image in bytes, with the checksum of exactly those bytes (when the bmap has one). */
export interface BmapRange extends ByteRange {
  checksum: string | null;
}

/** A parsed bmap: the image's size, its block size and the ranges that hold data. */
export interface Bmap {
  version: string;
  imageSize: number;
  blockSize: number;
  blocksCount: number;
  mappedBlocksCount: number;
  checksumType: BmapChecksumType;
  /** The BmapFileChecksum (2.0) or BmapFileSHA1 (1.x) value, or null when the file has none (1.0-1.2). */
  fileChecksum: string | null;
  ranges: BmapRange[];
}

const hexLength: Record<BmapChecksumType, number> = { sha256: 64, sha1: 40 };

function invalid(source: string, rule: string): Error {
  return flashError('invalid-bmap', `cannot read bmap ${source}: ${rule}; regenerate it with "bmaptool create" or "coreforge build"`, { bmap: source });
}

function element(xml: string, name: string): string | null {
  const m = new RegExp(`<${name}>\\s*([^<]*?)\\s*</${name}>`).exec(xml);
  return m ? m[1]! : null;
}

function integer(xml: string, name: string, source: string): number {
  const text = element(xml, name);
  if (text === null) throw invalid(source, `it has no <${name}> element`);
  if (!/^\d+$/.test(text)) throw invalid(source, `<${name}> must be a whole number, not "${text}"`);
  return Number(text);
}

/** Parses bmap XML into byte ranges, checking its internal consistency (not its checksum: see checkBmapChecksum). */
export function parseBmap(text: string, source = 'file'): Bmap {
  const xml = text.replace(/<!--[\s\S]*?-->/g, '');
  const versionMatch = /<bmap\s+version\s*=\s*"(\d+)\.(\d+)"\s*>/.exec(xml);
  if (!versionMatch) throw invalid(source, 'it is not a bmap file (no <bmap version="..."> element)');
  const major = Number(versionMatch[1]);
  const version = `${versionMatch[1]}.${versionMatch[2]}`;
  if (major < 1 || major > 2) throw invalid(source, `bmap version ${version} is not supported (1.x and 2.x are)`);

  const imageSize = integer(xml, 'ImageSize', source);
  const blockSize = integer(xml, 'BlockSize', source);
  const blocksCount = integer(xml, 'BlocksCount', source);
  const mappedBlocksCount = integer(xml, 'MappedBlocksCount', source);
  if (blockSize === 0 || blockSize % 512 !== 0) throw invalid(source, `BlockSize ${blockSize} must be a positive multiple of 512`);
  if (blocksCount !== Math.ceil(imageSize / blockSize)) {
    throw invalid(source, `BlocksCount ${blocksCount} does not match ImageSize ${imageSize} with BlockSize ${blockSize}`);
  }

  let checksumType: BmapChecksumType;
  let fileChecksum: string | null;
  if (major >= 2) {
    const type = element(xml, 'ChecksumType');
    if (type !== 'sha256' && type !== 'sha1') throw invalid(source, `ChecksumType "${type ?? ''}" is not supported (sha256 and sha1 are)`);
    checksumType = type;
    fileChecksum = element(xml, 'BmapFileChecksum');
    if (fileChecksum === null) throw invalid(source, 'a 2.x bmap must have a <BmapFileChecksum> element');
  } else {
    checksumType = 'sha1';
    fileChecksum = element(xml, 'BmapFileSHA1');
  }
  if (fileChecksum !== null && !new RegExp(`^[0-9a-fA-F]{${hexLength[checksumType]}}$`).test(fileChecksum)) {
    throw invalid(source, `its file checksum "${fileChecksum}" is not a ${checksumType} value`);
  }

  const mapMatch = /<BlockMap>([\s\S]*)<\/BlockMap>/.exec(xml);
  if (!mapMatch) throw invalid(source, 'it has no <BlockMap> element');
  const ranges: BmapRange[] = [];
  let mapped = 0;
  let nextFree = 0;
  const rangeRe = /<Range\b([^>]*)>\s*([^<]*?)\s*<\/Range>/g;
  for (let m = rangeRe.exec(mapMatch[1]!); m; m = rangeRe.exec(mapMatch[1]!)) {
    const attr = /\b(?:chksum|sha1)\s*=\s*"([^"]*)"/.exec(m[1]!);
    const blocks = /^(\d+)(?:\s*-\s*(\d+))?$/.exec(m[2]!);
    if (!blocks) throw invalid(source, `range "${m[2]}" must be "FIRST-LAST" or "BLOCK"`);
    const first = Number(blocks[1]);
    const last = blocks[2] === undefined ? first : Number(blocks[2]);
    if (last < first || last >= blocksCount) throw invalid(source, `range "${m[2]}" is outside blocks 0-${blocksCount - 1}`);
    if (first < nextFree) throw invalid(source, `range "${m[2]}" overlaps or precedes the one before it`);
    const checksum = attr ? attr[1]!.toLowerCase() : null;
    if (checksum !== null && !new RegExp(`^[0-9a-f]{${hexLength[checksumType]}}$`).test(checksum)) {
      throw invalid(source, `range "${m[2]}" has checksum "${checksum}", not a ${checksumType} value`);
    }
    ranges.push({ start: first * blockSize, end: Math.min((last + 1) * blockSize, imageSize), checksum });
    mapped += last - first + 1;
    nextFree = last + 1;
  }
  if (mapped !== mappedBlocksCount) throw invalid(source, `its ranges hold ${mapped} blocks but MappedBlocksCount says ${mappedBlocksCount}`);
  return { version, imageSize, blockSize, blocksCount, mappedBlocksCount, checksumType, fileChecksum, ranges };
}

/** The bmap's own checksum as bmaptool computes it: over the file with the checksum value replaced by ASCII zeros. */
export function computeBmapChecksum(bytes: Uint8Array, bmap: Bmap): string | null {
  if (bmap.fileChecksum === null) return null;
  const copy = Buffer.from(bytes);
  const at = copy.indexOf(bmap.fileChecksum, 0, 'latin1');
  if (at < 0) return null;
  copy.fill(0x30, at, at + bmap.fileChecksum.length);
  return createHash(bmap.checksumType).update(copy).digest('hex');
}

/** Throws 'bmap-checksum-mismatch' unless the bmap's BmapFileChecksum matches its bytes; a bmap without one passes. */
export function checkBmapChecksum(bytes: Uint8Array, bmap: Bmap, source = 'file'): void {
  if (bmap.fileChecksum === null) return;
  const actual = computeBmapChecksum(bytes, bmap);
  if (actual !== bmap.fileChecksum.toLowerCase()) {
    throw flashError(
      'bmap-checksum-mismatch',
      `cannot use bmap ${source}: its BmapFileChecksum is ${bmap.fileChecksum} but its content hashes to ${actual}; the bmap was edited or damaged, get it again with its image or regenerate it with "bmaptool create"`,
      { bmap: source, expected: bmap.fileChecksum, actual },
    );
  }
}

/** Parses and checksum-checks bmap bytes: the one call flashing makes before writing anything. */
export function readBmap(bytes: Uint8Array, source = 'file'): Bmap {
  const bmap = parseBmap(Buffer.from(bytes).toString('utf8'), source);
  checkBmapChecksum(bytes, bmap, source);
  return bmap;
}
