import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isCoreforgeError } from '../../../../daemon/errors.js';
import { layoutGadget, type LayoutOptions } from '../../../../daemon/image/gadget/layout.js';
import { loadGadget } from '../../../../daemon/image/gadget/load.js';
import { gadgetFixture } from '../fixtures.js';

const MiB = 1024 * 1024;

function summary(options: LayoutOptions, fixture: Parameters<typeof gadgetFixture>[0]) {
  const [v] = layoutGadget(loadGadget(gadgetFixture(fixture)), options);
  return {
    size: v!.size,
    structures: v!.structures.map((s) => [s.name, s.offset, s.size, s.partitionType, s.partition, s.inImage]),
  };
}

describe('layoutGadget', () => {
  test('lays out the UC18 pc gadget with the root filesystem size and the backup GPT at the end', () => {
    const l = summary({ sectorSize: 512, systemDataSize: 100 * MiB }, 'pc-uc18');
    assert.deepEqual(l.structures, [
      ['mbr', 0, 440, '', false, true],
      ['BIOS Boot', 1 * MiB, 1 * MiB, '21686148-6449-6E6F-744E-656564454649', true, true],
      ['EFI System', 2 * MiB, 50 * MiB, 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B', true, true],
      ['', 52 * MiB, 100 * MiB, '0FC63DAF-8483-4772-8E79-3D69D8477DE4', true, true],
    ]);
    assert.equal(l.size, 152 * MiB + 33 * 512);
  });

  test('reserves 5 sectors for the backup GPT with 4096-byte sectors', () => {
    assert.equal(summary({ sectorSize: 4096, systemDataSize: 100 * MiB }, 'pc-uc18').size, 152 * MiB + 5 * 4096);
  });

  test('rounds the root filesystem size up to the sector size', () => {
    const l = summary({ sectorSize: 4096, systemDataSize: 100 * MiB + 1 }, 'pc-uc18');
    assert.equal(l.structures[3]![2], 100 * MiB + 4096);
  });

  test('keeps UC20 boot, save and data structures out of the image, as snapd creates them at install', () => {
    const l = summary({ sectorSize: 512 }, 'pc-uc20');
    assert.deepEqual(
      l.structures.map((s) => [s[0], s[5]]),
      [
        ['mbr', true],
        ['BIOS Boot', true],
        ['ubuntu-seed', true],
        ['ubuntu-boot', false],
        ['ubuntu-save', false],
        ['ubuntu-data', false],
      ],
    );
    assert.equal(l.size, (2 + 1200 + 750 + 16 + 1024) * MiB + 33 * 512);
  });

  test('uses the MBR half of hybrid types on mbr volumes and adds no trailer', () => {
    const l = summary({ sectorSize: 512, systemDataSize: 10 * MiB }, 'pi-uc18');
    assert.deepEqual(l.structures, [
      ['', 1 * MiB, 256 * MiB, '0C', true, true],
      ['', 257 * MiB, 10 * MiB, '83', true, true],
    ]);
    assert.equal(l.size, 267 * MiB);
  });

  test('grows a trailing system-data to fill a requested image size', () => {
    const [v] = layoutGadget(loadGadget(gadgetFixture('pc-uc18')), {
      sectorSize: 512,
      systemDataSize: 100 * MiB,
      imageSize: { pc: 1024 * MiB },
    });
    assert.equal(v!.size, 1024 * MiB);
    const data = v!.structures[3]!;
    assert.equal(data.offset + data.size, 1024 * MiB - 33 * 512);
  });

  test('sizes the implicit system-data from the requested image size when no root filesystem size is given', () => {
    const [v] = layoutGadget(loadGadget(gadgetFixture('pi-uc18')), { sectorSize: 512, imageSize: 512 * MiB });
    assert.deepEqual(
      v!.structures.map((s) => [s.offset, s.size]),
      [
        [1 * MiB, 256 * MiB],
        [257 * MiB, 255 * MiB],
      ],
    );
  });

  test('leaves a non-trailing or not-in-image system-data alone when the image is larger', () => {
    const [v] = layoutGadget(loadGadget(gadgetFixture('pc-uc20')), { sectorSize: 512, imageSize: 4096 * MiB });
    assert.equal(v!.size, 4096 * MiB);
    assert.equal(v!.structures[5]!.size, 1024 * MiB);
  });

  const bad: { name: string; yaml: string; options: LayoutOptions; message: string }[] = [
    {
      name: 'the implicit system-data without a root filesystem size',
      yaml: gadgetFixture('pc-uc18'),
      options: { sectorSize: 512 },
      message: 'cannot lay out volume "pc": implicit system-data structure "writable" has no size; give the root filesystem size or an image size to fill',
    },
    {
      name: 'an image size below what the volume needs',
      yaml: gadgetFixture('pi-uc18'),
      options: { sectorSize: 512, systemDataSize: MiB, imageSize: 100 * MiB },
      message: 'cannot use image size 104857600 (100 MiB) for volume "pi": it needs at least 270532608 bytes (258 MiB); ask for a larger image size or none',
    },
    {
      name: 'a structure inside the GPT',
      yaml: 'volumes:\n  pc:\n    bootloader: grub\n    structure:\n      - name: spl\n        type: bare\n        offset: 8192\n        size: 1M\n',
      options: { sectorSize: 512, systemDataSize: MiB },
      message: 'cannot lay out volume "pc": structure "spl" overlaps GPT header or GPT partition table (the first 17408 bytes with 512-byte sectors); move its "offset" to 17408 or later',
    },
    {
      name: 'a structure over the MBR partition table',
      yaml: 'volumes:\n  pi:\n    schema: mbr\n    bootloader: u-boot\n    structure:\n      - name: spl\n        type: bare\n        offset: 256\n        size: 1M\n',
      options: { sectorSize: 512, systemDataSize: MiB },
      message: 'cannot lay out volume "pi": structure "spl" overlaps MBR partition table (the first 512 bytes with 512-byte sectors); move its "offset" to 512 or later',
    },
    {
      name: 'a partition not aligned to 4096-byte sectors',
      yaml: 'volumes:\n  pc:\n    bootloader: grub\n    structure:\n      - name: p\n        type: 0FC63DAF-8483-4772-8E79-3D69D8477DE4\n        offset: 1049088\n        size: 1M\n',
      options: { sectorSize: 4096, systemDataSize: MiB },
      message: 'cannot lay out volume "pc": gadget volume structure "p" offset 1049088 is not a multiple of disk sector size 4096; align its "offset"',
    },
    {
      name: 'a partition size that is not a whole number of sectors',
      yaml: 'volumes:\n  pc:\n    bootloader: grub\n    structure:\n      - name: p\n        type: 0FC63DAF-8483-4772-8E79-3D69D8477DE4\n        size: 1000\n',
      options: { sectorSize: 512, systemDataSize: MiB },
      message: 'gadget volume structure "p" size is not a multiple of disk sector size 512; round its "size" (volume "pc")',
    },
    {
      name: 'a system-data that grows into the next structure',
      yaml: 'volumes:\n  pc:\n    bootloader: grub\n    structure:\n      - name: d\n        role: system-data\n        type: 0FC63DAF-8483-4772-8E79-3D69D8477DE4\n        filesystem: ext4\n        size: 1M\n      - name: e\n        type: 0FC63DAF-8483-4772-8E79-3D69D8477DE4\n        offset: 2M\n        size: 1M\n',
      options: { sectorSize: 512, systemDataSize: 2 * MiB },
      message: 'cannot lay out volume "pc": structure "e" overlaps with the preceding structure "d"; lower the system-data size or move the structure',
    },
  ];
  for (const c of bad) {
    test(`rejects ${c.name}`, () => {
      assert.throws(
        () => layoutGadget(loadGadget(c.yaml), c.options),
        (err: unknown) => isCoreforgeError(err) && err.kind === 'invalid-layout' && err.message === c.message,
      );
    });
  }

  test('rejects sector sizes other than 512 and 4096', () => {
    assert.throws(
      () => layoutGadget(loadGadget(gadgetFixture('pi-uc18')), { sectorSize: 1024 as 512 }),
      { message: 'cannot use sector size 1024; use 512 or 4096' },
    );
  });
});

describe('layoutGadget for what a build makes of UC24 gadgets', () => {
  const emmc =
    'volumes:\n  pc:\n    bootloader: grub\n    structure:\n      - {name: mbr, type: mbr, size: 440}\n' +
    '      - {name: data, role: system-data, type: "83,0FC63DAF-8483-4772-8E79-3D69D8477DE4", filesystem: ext4, size: 4M}\n' +
    '  my-emmc:\n    schema: emmc\n    structure:\n      - {name: boot0, content: [{image: boot0.img}]}\n';

  test('makes no image of an emmc volume: its content goes to the hardware boot partitions on the device', () => {
    const g = loadGadget(emmc);
    assert.deepEqual(g.volumes.map((v) => [v.name, v.schema]), [['pc', 'gpt'], ['my-emmc', 'emmc']]);
    assert.deepEqual(layoutGadget(g, { sectorSize: 512 }).map((v) => v.name), ['pc']);
  });

  test("reports the image rules as problems instead of refusing, for validation without a build", () => {
    const yaml = 'volumes:\n  vol:\n    schema: mbr\n    bootloader: u-boot\n    structure:\n      - {name: boot, type: 0C, filesystem: vfat, offset: 12345, size: 88888}\n';
    const g = loadGadget(yaml, { implicitSystemData: false });
    assert.throws(() => layoutGadget(g, { sectorSize: 512 }), {
      message: 'cannot lay out volume "vol": gadget volume structure "boot" offset 12345 is not a multiple of disk sector size 512; align its "offset"',
    });
    const [v] = layoutGadget(g, { sectorSize: 512, imageRules: 'report' });
    assert.equal(v!.structures[0]!.offset, 12345);
    assert.deepEqual(v!.problems, [
      'cannot lay out volume "vol": gadget volume structure "boot" offset 12345 is not a multiple of disk sector size 512; align its "offset"',
      'gadget volume structure "boot" size is not a multiple of disk sector size 512; round its "size" (volume "vol")',
    ]);
  });
});
