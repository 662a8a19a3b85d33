import { createHash } from 'node:crypto';
import { imageError } from './errors.js';

/**
 * Block maps in bmaptool's format version 2.0, byte for byte as
 * `bmaptool create` writes them (bmaptools/BmapCreate.py), including its
 * human-readable comments, padding, and BmapFileChecksum: the SHA-256 of the
 * whole file while that field holds 64 ASCII zeros.
 */

export interface BmapRange {
  /** First and last block of the range, inclusive. */
  first: number;
  last: number;
  /** SHA-256 (lower-case hex) of the range's bytes, clipped to the image size. */
  sha256: string;
}

export interface BmapInput {
  imageSize: number;
  blockSize: number;
  /** Mapped ranges, sorted and not overlapping (see toBlockRanges). */
  ranges: BmapRange[];
}

const checksumLength = 64;

/** Python's "%.1f": correctly rounded, ties to even (JavaScript's toFixed rounds ties up). */
function pyFixed1(x: number): string {
  const q = x * 4;
  if (Number.isInteger(q) && q % 2 !== 0 && Number.isInteger(x * 10 - 0.5)) {
    let n = Math.floor(x * 10);
    if (n % 2 !== 0) n += 1;
    return `${Math.floor(n / 10)}.${n % 10}`;
  }
  return x.toFixed(1);
}

/** bmaptools' human_size, to reproduce the comments bmaptool writes. */
export function humanSize(size: number): string {
  if (size === 1) return '1 byte';
  if (size < 512) return `${size} bytes`;
  let s = size;
  for (const unit of ['KiB', 'MiB', 'GiB', 'TiB']) {
    s /= 1024;
    if (s < 1024) return `${pyFixed1(s)} ${unit}`;
  }
  return `${pyFixed1(s)} EiB`;
}

function fail(message: string): never {
  throw imageError('invalid-bmap', message);
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

function overwrite(text: string, at: number, value: string): string {
  return text.slice(0, at) + value + text.slice(at + value.length);
}

function checkInput(input: BmapInput, blocksCount: number): void {
  if (!Number.isSafeInteger(input.imageSize) || input.imageSize <= 0) fail(`cannot generate bmap for image size ${input.imageSize}: the image must not be empty`);
  if (!Number.isSafeInteger(input.blockSize) || input.blockSize <= 0) fail(`cannot generate bmap with block size ${input.blockSize}: use a positive block size such as 4096`);
  let previousLast = -1;
  for (const r of input.ranges) {
    if (!Number.isSafeInteger(r.first) || !Number.isSafeInteger(r.last) || r.first > r.last || r.first <= previousLast || r.last >= blocksCount) {
      fail(`cannot generate bmap: range ${r.first}-${r.last} is not sorted, overlaps the previous one, or ends past block ${blocksCount - 1}; normalize the ranges with toBlockRanges`);
    }
    if (!/^[0-9a-f]{64}$/.test(r.sha256)) fail(`cannot generate bmap: range ${r.first}-${r.last} has checksum "${r.sha256}"; give a lower-case hex SHA-256`);
    previousLast = r.last;
  }
}

/** Produces the bmap 2.0 XML for an image from its mapped block ranges, identical to what bmaptool writes. */
export function generateBmap(input: BmapInput): string {
  const { imageSize, blockSize } = input;
  const blocksCount = Math.ceil(imageSize / blockSize);
  checkInput(input, blocksCount);
  const imageSizeHuman = humanSize(imageSize);

  let xml = `<?xml version="1.0" ?>
<!-- This file contains the block map for an image file, which is basically
     a list of useful (mapped) block numbers in the image file. In other words,
     it lists only those blocks which contain data (boot sector, partition
     table, file-system metadata, files, directories, extents, etc). These
     blocks have to be copied to the target device. The other blocks do not
     contain any useful data and do not have to be copied to the target
     device.

     The block map an optimization which allows to copy or flash the image to
     the image quicker than copying of flashing the entire image. This is
     because with bmap less data is copied: <MappedBlocksCount> blocks instead
     of <BlocksCount> blocks.

     Besides the machine-readable data, this file contains useful commentaries
     which contain human-readable information like image size, percentage of
     mapped data, etc.

     The 'version' attribute is the block map file format version in the
     'major.minor' format. The version major number is increased whenever an
     incompatible block map format change is made. The minor number changes
     in case of minor backward-compatible changes. -->

<bmap version="2.0">
    <!-- Image size in bytes: ${imageSizeHuman} -->
    <ImageSize> ${imageSize} </ImageSize>

    <!-- Size of a block in bytes -->
    <BlockSize> ${blockSize} </BlockSize>

    <!-- Count of blocks in the image file -->
    <BlocksCount> ${blocksCount} </BlocksCount>

`;
  xml += '    <!-- Count of mapped blocks: ';
  const mappedCountPos1 = xml.length;
  xml += `${' '.repeat(imageSizeHuman.length)} or ${' '.repeat('100.0%'.length)}   -->\n`;
  xml += '    <MappedBlocksCount> ';
  const mappedCountPos2 = xml.length;
  xml += `${' '.repeat(String(blocksCount).length)} </MappedBlocksCount>\n\n`;
  xml += '    <!-- Type of checksum used in this file -->\n';
  xml += '    <ChecksumType> sha256 </ChecksumType>\n\n';
  xml += '    <!-- The checksum of this bmap file. When it is calculated, the value of\n';
  xml += '         the checksum has be zero (all ASCII "0" symbols).  -->\n';
  xml += '    <BmapFileChecksum> ';
  const checksumPos = xml.length;
  xml += `${'0'.repeat(checksumLength)} </BmapFileChecksum>\n\n`;
  xml += '    <!-- The block map which consists of elements which may either be a\n';
  xml += "         range of blocks or a single block. The 'chksum' attribute\n";
  xml += '         (if present) is the checksum of this blocks range. -->\n';
  xml += '    <BlockMap>\n';

  let mappedCount = 0;
  for (const r of input.ranges) {
    mappedCount += r.last - r.first + 1;
    const blocks = r.first !== r.last ? `${r.first}-${r.last}` : `${r.first}`;
    xml += `        <Range chksum="${r.sha256}"> ${blocks} </Range>\n`;
  }
  xml += '    </BlockMap>\n';
  xml += '</bmap>\n';

  const mappedPercent = (mappedCount * 100) / blocksCount;
  xml = overwrite(xml, mappedCountPos1, `${humanSize(mappedCount * blockSize)} or ${pyFixed1(mappedPercent)}%`);
  xml = overwrite(xml, mappedCountPos2, String(mappedCount));
  return overwrite(xml, checksumPos, sha256Hex(xml));
}
