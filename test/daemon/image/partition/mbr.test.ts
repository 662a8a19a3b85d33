import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { isCoreforgeError } from '../../../../daemon/errors.js';
import { chsBytes, encodeMbr, type MbrPartition } from '../../../../daemon/image/partition/mbr.js';
import { readTable, skip4096, tempDir, verifyTable, writeImage } from './disk.js';

const MiB = 1024 * 1024;
const { dir, cleanup } = tempDir();
after(cleanup);

/** The UC18 pi layout in sectors of `s` bytes: 256M vfat system-boot (bootable, 0C) then writable (83). */
function piPartitions(s: number): MbrPartition[] {
  return [
    { start: MiB / s, sectors: (256 * MiB) / s, type: 0x0c, bootable: true },
    { start: (257 * MiB) / s, sectors: (100 * MiB) / s, type: 0x83, bootable: false },
  ];
}

describe('encodeMbr', () => {
  for (const s of [512, 4096] as const) {
    test(`writes a table sfdisk reads back with ${s}-byte sectors`, { skip: s === 4096 && skip4096 }, () => {
      const size = 357 * MiB;
      const path = join(dir, `pi-${s}.img`);
      writeImage(path, size, encodeMbr({ diskSectors: size / s, diskSignature: 0x0271d959, partitions: piPartitions(s) }));
      const table = readTable(path, s);
      assert.equal(table.label, 'dos');
      assert.equal(table.id, '0x0271d959');
      assert.equal(table.sectorsize, s);
      assert.deepEqual(
        table.partitions.map((p) => [p.start, p.size, p.type, p.bootable ?? false]),
        [
          [MiB / s, (256 * MiB) / s, 'c', true],
          [(257 * MiB) / s, (100 * MiB) / s, '83', false],
        ],
      );
      const verify = verifyTable(path, s);
      assert.equal(verify.status, 0, verify.output);
      assert.match(verify.output, /No errors detected/);
    });
  }

  test('writes only bytes 440..511, leaving boot code in front of the table alone', () => {
    const writes = encodeMbr({ diskSectors: 1000, diskSignature: 0x11223344, partitions: [] });
    assert.equal(writes.length, 1);
    assert.equal(writes[0]!.offset, 440);
    assert.equal(writes[0]!.data.length, 72);
    assert.deepEqual(Array.from(writes[0]!.data.subarray(0, 6)), [0x44, 0x33, 0x22, 0x11, 0, 0]);
    assert.deepEqual(Array.from(writes[0]!.data.subarray(70)), [0x55, 0xaa]);
    const path = join(dir, 'bootcode.img');
    writeImage(path, 1000 * 512, [{ offset: 0, data: new Uint8Array(440).fill(0xfa) }, ...writes]);
    assert.ok(readFileSync(path).subarray(0, 440).every((b) => b === 0xfa));
  });

  test('computes CHS addresses with 255 heads and 63 sectors, capped past cylinder 1023', () => {
    assert.deepEqual(chsBytes(2048), [32, 33, 0]);
    assert.deepEqual(chsBytes(1), [0, 2, 0]);
    assert.deepEqual(chsBytes(1024 * 255 * 63), [254, 0xff, 0xff]);
  });

  const bad: [string, MbrPartition[], string][] = [
    [
      'five partitions',
      [1, 2, 3, 4, 5].map((i) => ({ start: i * 10, sectors: 10, type: 0x83, bootable: false })),
      'cannot create an MBR partition table with 5 partitions: MBR holds at most 4 primary partitions; use schema gpt or drop structures',
    ],
    [
      'a partition past the end of the disk',
      [{ start: 2048, sectors: 2000, type: 0x83, bootable: false }],
      'cannot place MBR partition at sectors 2048-4047: the disk has 4000 sectors; make the image larger',
    ],
    [
      'overlapping partitions',
      [
        { start: 100, sectors: 100, type: 0x83, bootable: false },
        { start: 150, sectors: 10, type: 0x83, bootable: false },
      ],
      'cannot place MBR partition at sector 150: it overlaps the partition at sector 100',
    ],
    ['type 0', [{ start: 100, sectors: 10, type: 0, bootable: false }], 'cannot use MBR partition type 0: use a byte from 0x01 to 0xFF'],
    [
      'a partition at sector 0',
      [{ start: 0, sectors: 10, type: 0x83, bootable: false }],
      'cannot place MBR partition at sector 0 with 10 sectors: partitions start after sector 0 and are not empty',
    ],
  ];
  for (const [name, partitions, message] of bad) {
    test(`rejects ${name}`, () => {
      assert.throws(
        () => encodeMbr({ diskSectors: 4000, diskSignature: 1, partitions }),
        (err: unknown) => isCoreforgeError(err) && err.kind === 'invalid-partition-table' && err.message === message,
      );
    });
  }
});
