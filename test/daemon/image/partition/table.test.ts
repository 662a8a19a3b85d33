import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { isCoreforgeError } from '../../../../daemon/errors.js';
import { layoutGadget, type SectorSize } from '../../../../daemon/image/gadget/layout.js';
import { loadGadget } from '../../../../daemon/image/gadget/load.js';
import { offsetWrites } from '../../../../daemon/image/gadget/offset-write.js';
import { partitionTableFor } from '../../../../daemon/image/partition/table.js';
import { gadgetFixture } from '../fixtures.js';
import { readTable, skip4096, tempDir, verifyTable, writeImage } from './disk.js';

const MiB = 1024 * 1024;
const { dir, cleanup } = tempDir();
after(cleanup);

function volumeOf(yaml: string, sectorSize: SectorSize) {
  return layoutGadget(loadGadget(yaml), { sectorSize, systemDataSize: 64 * MiB })[0]!;
}

describe('partitionTableFor', () => {
  for (const s of [512, 4096] as const) {
    test(`gives the UC18 pc gadget a GPT of BIOS Boot, EFI System and writable (${s}-byte sectors)`, { skip: s === 4096 && skip4096 }, () => {
      const volume = volumeOf(gadgetFixture('pc-uc18'), s);
      const table = partitionTableFor(volume, { seed: 'build-42' });
      const path = join(dir, `pc-uc18-${s}.img`);
      const bootCode = { offset: 0, data: new Uint8Array(440).fill(0xeb) };
      writeImage(path, volume.size, [...table.writes, bootCode, ...offsetWrites(volume)]);
      const read = readTable(path, s);
      assert.equal(read.id, table.diskId);
      assert.deepEqual(
        read.partitions.map((p) => [p.start * s, p.size * s, p.type, p.name, p.uuid]),
        table.partitions.map((p) => [p.offset, p.size, p.type, p.name, p.guid]),
      );
      assert.deepEqual(read.partitions.map((p) => p.name), ['BIOS Boot', 'EFI System', 'writable']);
      assert.equal(verifyTable(path, s).status, 0);
    });

    test(`gives the UC18 pi gadget an MBR with a bootable 0C system-boot (${s}-byte sectors)`, { skip: s === 4096 && skip4096 }, () => {
      const volume = volumeOf(gadgetFixture('pi-uc18'), s);
      const table = partitionTableFor(volume, { seed: 'build-42' });
      const path = join(dir, `pi-uc18-${s}.img`);
      writeImage(path, volume.size, table.writes);
      const read = readTable(path, s);
      assert.equal(read.label, 'dos');
      assert.equal(read.id, `0x${table.diskId}`);
      assert.deepEqual(
        read.partitions.map((p) => [p.start * s, p.size * s, p.type, p.bootable ?? false]),
        [
          [1 * MiB, 256 * MiB, 'c', true],
          [257 * MiB, 64 * MiB, '83', false],
        ],
      );
      assert.equal(verifyTable(path, s).status, 0);
    });
  }

  test('gives a UC20 image only the partitions written at build time, like ubuntu-image', () => {
    const volume = volumeOf(gadgetFixture('pc-uc20'), 512);
    const table = partitionTableFor(volume, { seed: 's' });
    assert.deepEqual(table.partitions.map((p) => [p.number, p.name]), [
      [1, 'BIOS Boot'],
      [2, 'ubuntu-seed'],
    ]);
    const path = join(dir, 'pc-uc20.img');
    writeImage(path, volume.size, table.writes);
    assert.equal(readTable(path, 512).partitions.length, 2);
    assert.equal(verifyTable(path, 512).status, 0);
  });

  test('derives GUIDs from the seed, and uses the volume and structure ids when the gadget gives them', () => {
    const a = partitionTableFor(volumeOf(gadgetFixture('pc-uc18'), 512), { seed: 'one' });
    const b = partitionTableFor(volumeOf(gadgetFixture('pc-uc18'), 512), { seed: 'one' });
    const c = partitionTableFor(volumeOf(gadgetFixture('pc-uc18'), 512), { seed: 'two' });
    assert.deepEqual(a, b);
    assert.notEqual(a.diskId, c.diskId);
    const withIds = gadgetFixture('pc-uc18')
      .replace('  pc:\n', '  pc:\n    id: 11111111-2222-3333-4444-555555555555\n')
      .replace('        filesystem: vfat\n', '        filesystem: vfat\n        id: aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee\n');
    const t = partitionTableFor(volumeOf(withIds, 512), { seed: 'one' });
    assert.equal(t.diskId, '11111111-2222-3333-4444-555555555555');
    assert.equal(t.partitions[1]!.guid, 'AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE');
  });

  test('rejects an mbr volume with more than 4 partitions', () => {
    const five = Array.from({ length: 5 }, (_, i) => `      - name: p${i}\n        type: 83\n        size: 1M\n`).join('');
    const yaml = `volumes:\n  disk:\n    schema: mbr\n    bootloader: u-boot\n    structure:\n${five}`;
    assert.throws(
      () => partitionTableFor(volumeOf(yaml, 512), { seed: 's' }),
      (err: unknown) =>
        isCoreforgeError(err) &&
        err.kind === 'invalid-partition-table' &&
        err.message === 'cannot create an MBR partition table with 6 partitions: MBR holds at most 4 primary partitions; use schema gpt or drop structures',
    );
  });
});
