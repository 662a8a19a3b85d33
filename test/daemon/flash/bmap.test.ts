import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkBmapChecksum, parseBmap, readBmap } from '../../../daemon/flash/bmap.js';

/** Written by `bmaptool create` 3.6 for a 16 MiB image with blocks 3-12 and 1000 mapped. */
const realBmap = `<?xml version="1.0" ?>
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
    <!-- Image size in bytes: 16.0 MiB -->
    <ImageSize> 16777216 </ImageSize>

    <!-- Size of a block in bytes -->
    <BlockSize> 4096 </BlockSize>

    <!-- Count of blocks in the image file -->
    <BlocksCount> 4096 </BlocksCount>

    <!-- Count of mapped blocks: 44.0 KiB or 0.3%     -->
    <MappedBlocksCount> 11   </MappedBlocksCount>

    <!-- Type of checksum used in this file -->
    <ChecksumType> sha256 </ChecksumType>

    <!-- The checksum of this bmap file. When it is calculated, the value of
         the checksum has be zero (all ASCII "0" symbols).  -->
    <BmapFileChecksum> 37e93650693e0acc569208cbf12c306bb161ae1e0caff624e51056ef6e666a96 </BmapFileChecksum>

    <!-- The block map which consists of elements which may either be a
         range of blocks or a single block. The 'chksum' attribute
         (if present) is the checksum of this blocks range. -->
    <BlockMap>
        <Range chksum="8fe3497117d591b58147c06270fbbb6bbc3c74e032f1477ff13d8e624e9edc6e"> 3-12 </Range>
        <Range chksum="40b876928c4249eada940677cf5673479c9bd396bc7a749665b7a9359ad25b0d"> 1000 </Range>
    </BlockMap>
</bmap>
`;

function rewrite(text: string, from: string | RegExp, to: string): string {
  const out = text.replace(from, to);
  assert.notEqual(out, text, `fixture edit ${String(from)} did nothing`);
  return out;
}

describe('bmap parsing', () => {
  it('reads a bmap written by bmaptool, ranges in bytes with their checksums', () => {
    const bmap = readBmap(Buffer.from(realBmap), 's.img.bmap');
    assert.equal(bmap.version, '2.0');
    assert.equal(bmap.imageSize, 16 * 1024 * 1024);
    assert.equal(bmap.blockSize, 4096);
    assert.equal(bmap.blocksCount, 4096);
    assert.equal(bmap.mappedBlocksCount, 11);
    assert.equal(bmap.checksumType, 'sha256');
    assert.deepEqual(bmap.ranges, [
      { start: 3 * 4096, end: 13 * 4096, checksum: '8fe3497117d591b58147c06270fbbb6bbc3c74e032f1477ff13d8e624e9edc6e' },
      { start: 1000 * 4096, end: 1001 * 4096, checksum: '40b876928c4249eada940677cf5673479c9bd396bc7a749665b7a9359ad25b0d' },
    ]);
  });

  it('clips the last range to the image size when the image ends inside a block', () => {
    const text = `<bmap version="2.0"><ImageSize>10000</ImageSize><BlockSize>4096</BlockSize><BlocksCount>3</BlocksCount>
      <MappedBlocksCount>1</MappedBlocksCount><ChecksumType>sha256</ChecksumType><BmapFileChecksum>${'0'.repeat(64)}</BmapFileChecksum>
      <BlockMap><Range chksum="${'a'.repeat(64)}">2</Range></BlockMap></bmap>`;
    assert.deepEqual(parseBmap(text).ranges, [{ start: 8192, end: 10000, checksum: 'a'.repeat(64) }]);
  });

  it('reads a 1.x bmap with sha1 checksums', () => {
    const text = `<bmap version="1.4"><ImageSize>8192</ImageSize><BlockSize>4096</BlockSize><BlocksCount>2</BlocksCount>
      <MappedBlocksCount>2</MappedBlocksCount><BmapFileSHA1>${'0'.repeat(40)}</BmapFileSHA1>
      <BlockMap><Range sha1="${'b'.repeat(40)}">0-1</Range></BlockMap></bmap>`;
    const bmap = parseBmap(text);
    assert.equal(bmap.checksumType, 'sha1');
    assert.deepEqual(bmap.ranges, [{ start: 0, end: 8192, checksum: 'b'.repeat(40) }]);
  });

  it('accepts a bmap whose checksum matches and refuses one edited afterwards', () => {
    const bmap = parseBmap(realBmap, 's.img.bmap');
    assert.doesNotThrow(() => checkBmapChecksum(Buffer.from(realBmap), bmap, 's.img.bmap'));
    const edited = rewrite(realBmap, '> 1000 </Range>', '> 1001 </Range>');
    assert.throws(() => readBmap(Buffer.from(edited), 'pi.img.bmap'), {
      kind: 'bmap-checksum-mismatch',
      message: /^cannot use bmap pi\.img\.bmap: its BmapFileChecksum is 37e93650693e0acc569208cbf12c306bb161ae1e0caff624e51056ef6e666a96 but its content hashes to [0-9a-f]{64}; the bmap was edited or damaged, get it again with its image or regenerate it with "bmaptool create"$/,
    });
  });

  const fix = '; regenerate it with "bmaptool create" or "coreforge build"';
  const bad: [string, (t: string) => string, string][] = [
    ['an XML file that is not a bmap', () => '<?xml version="1.0"?><html></html>', 'it is not a bmap file (no <bmap version="..."> element)'],
    ['a future major version', (t) => rewrite(t, 'version="2.0"', 'version="3.0"'), 'bmap version 3.0 is not supported (1.x and 2.x are)'],
    ['a missing ImageSize', (t) => rewrite(t, /<ImageSize>[^<]*<\/ImageSize>/, ''), 'it has no <ImageSize> element'],
    ['a size that is not a number', (t) => rewrite(t, '<ImageSize> 16777216 </ImageSize>', '<ImageSize> 16M </ImageSize>'), '<ImageSize> must be a whole number, not "16M"'],
    ['a block size that is not a multiple of 512', (t) => rewrite(t, '<BlockSize> 4096 </BlockSize>', '<BlockSize> 1000 </BlockSize>'), 'BlockSize 1000 must be a positive multiple of 512'],
    ['a BlocksCount that does not fit the size', (t) => rewrite(t, '<BlocksCount> 4096 </BlocksCount>', '<BlocksCount> 4000 </BlocksCount>'), 'BlocksCount 4000 does not match ImageSize 16777216 with BlockSize 4096'],
    ['an unknown checksum type', (t) => rewrite(t, '<ChecksumType> sha256 </ChecksumType>', '<ChecksumType> md5 </ChecksumType>'), 'ChecksumType "md5" is not supported (sha256 and sha1 are)'],
    ['a range past the last block', (t) => rewrite(t, '> 1000 </Range>', '> 4096 </Range>'), 'range "4096" is outside blocks 0-4095'],
    ['ranges out of order', (t) => rewrite(t, '> 1000 </Range>', '> 5 </Range>'), 'range "5" overlaps or precedes the one before it'],
    ['a malformed range', (t) => rewrite(t, '> 1000 </Range>', '> 1000-x </Range>'), 'range "1000-x" must be "FIRST-LAST" or "BLOCK"'],
    ['a short range checksum', (t) => rewrite(t, '40b876928c4249eada940677cf5673479c9bd396bc7a749665b7a9359ad25b0d', 'abc'), 'range "1000" has checksum "abc", not a sha256 value'],
    ['a wrong MappedBlocksCount', (t) => rewrite(t, '<MappedBlocksCount> 11   </MappedBlocksCount>', '<MappedBlocksCount> 12 </MappedBlocksCount>'), 'its ranges hold 11 blocks but MappedBlocksCount says 12'],
  ];
  for (const [name, edit, rule] of bad) {
    it(`refuses ${name}`, () => {
      assert.throws(() => parseBmap(edit(realBmap), 'pi.img.bmap'), { kind: 'invalid-bmap', message: `cannot read bmap pi.img.bmap: ${rule}${fix}` });
    });
  }
});
