import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { isCoreforgeError } from '../../../../daemon/errors.js';
import { crc32 } from '../../../../daemon/image/partition/crc32.js';
import { encodeGpt, gptGeometry, type GptPartition, type GptTable } from '../../../../daemon/image/partition/gpt.js';
import { readTable, skip4096, tempDir, verifyTable, writeImage } from './disk.js';

const MiB = 1024 * 1024;
const { dir, cleanup } = tempDir();
after(cleanup);

const bios = '21686148-6449-6E6F-744E-656564454649';
const esp = 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B';
const linux = '0FC63DAF-8483-4772-8E79-3D69D8477DE4';

/** The UC18 pc layout (BIOS Boot 1M at 1M, ESP 50M at 2M, writable 100M at 52M) in sectors of `s` bytes. */
function pcTable(s: 512 | 4096): GptTable {
  const size = 152 * MiB + (1 + (128 * 128) / s) * s;
  const at = (bytes: number) => bytes / s;
  return {
    sectorSize: s,
    diskSectors: size / s,
    diskGuid: '01D1E823-2371-4226-91DE-0BDF3D27B14A',
    partitions: [
      { start: at(MiB), sectors: at(MiB), typeGuid: bios, partitionGuid: '3DFAA3B9-4CB7-42DB-ADA9-491F9E986DE5', name: 'BIOS Boot' },
      { start: at(2 * MiB), sectors: at(50 * MiB), typeGuid: esp, partitionGuid: 'B7B391F7-B763-454D-A120-9DBC65B9E1BC', name: 'EFI System' },
      { start: at(52 * MiB), sectors: at(100 * MiB), typeGuid: linux, partitionGuid: '698ACC5C-4D8E-4DDA-8CA6-D82E40B5D74D', name: 'writable' },
    ],
  };
}

describe('encodeGpt', () => {
  for (const s of [512, 4096] as const) {
    test(`writes a protective MBR and both GPTs that sfdisk reads and verifies with ${s}-byte sectors`, { skip: s === 4096 && skip4096 }, () => {
      const table = pcTable(s);
      const path = join(dir, `pc-${s}.img`);
      writeImage(path, table.diskSectors * s, encodeGpt(table));
      const read = readTable(path, s);
      assert.equal(read.label, 'gpt');
      assert.equal(read.id, table.diskGuid);
      assert.equal(read.sectorsize, s);
      assert.equal(read.firstlba, s === 512 ? 34 : 6);
      assert.equal(read.lastlba, table.diskSectors - (s === 512 ? 34 : 6));
      assert.deepEqual(
        read.partitions.map((p) => [p.start, p.size, p.type, p.uuid, p.name]),
        table.partitions.map((p) => [p.start, p.sectors, p.typeGuid, p.partitionGuid, p.name]),
      );
      const verify = verifyTable(path, s);
      assert.equal(verify.status, 0, verify.output);
      assert.match(verify.output, /No errors detected/);
    });
  }

  test('puts the backup header in the last sector, pointing back at the primary, with valid CRCs', () => {
    const table = pcTable(512);
    const path = join(dir, 'backup.img');
    writeImage(path, table.diskSectors * 512, encodeGpt(table));
    const image = readFileSync(path);
    const last = table.diskSectors - 1;
    const header = image.subarray(last * 512, last * 512 + 92);
    assert.equal(header.subarray(0, 8).toString('latin1'), 'EFI PART');
    assert.equal(header.readBigUInt64LE(24), BigInt(last));
    assert.equal(header.readBigUInt64LE(32), 1n);
    const entriesLba = Number(header.readBigUInt64LE(72));
    assert.equal(entriesLba, last - 32);
    const copy = Buffer.from(header);
    copy.writeUInt32LE(0, 16);
    assert.equal(header.readUInt32LE(16), crc32(copy));
    const entries = image.subarray(entriesLba * 512, entriesLba * 512 + 128 * 128);
    assert.equal(header.readUInt32LE(88), crc32(entries));
    assert.deepEqual(entries, image.subarray(1024, 1024 + 128 * 128));
    const pmbr = image.subarray(446, 462);
    assert.equal(pmbr[4], 0xee);
    assert.equal(pmbr.readUInt32LE(8), 1);
    assert.equal(pmbr.readUInt32LE(12), table.diskSectors - 1);
  });

  test('gives the same bytes for the same table', () => {
    assert.deepEqual(encodeGpt(pcTable(512)), encodeGpt(pcTable(512)));
  });

  test('stores names as UTF-16LE and attribute bits as given', () => {
    const table = pcTable(512);
    table.partitions[0] = { ...table.partitions[0]!, name: 'démarrage', attributes: 1n << 2n };
    const path = join(dir, 'names.img');
    writeImage(path, table.diskSectors * 512, encodeGpt(table));
    const read = readTable(path, 512);
    assert.equal(read.partitions[0]!.name, 'démarrage');
    assert.equal(read.partitions[0]!.attrs, 'LegacyBIOSBootable');
  });

  test('computes the usable area for both sector sizes', () => {
    assert.deepEqual(gptGeometry(512, 10000), { entrySectors: 32, firstUsable: 34, lastUsable: 9966, backupEntries: 9967, backupHeader: 9999 });
    assert.deepEqual(gptGeometry(4096, 1000), { entrySectors: 4, firstUsable: 6, lastUsable: 994, backupEntries: 995, backupHeader: 999 });
  });

  const part = (p: Partial<GptPartition>): GptPartition => ({
    start: 2048,
    sectors: 2048,
    typeGuid: linux,
    partitionGuid: '698ACC5C-4D8E-4DDA-8CA6-D82E40B5D74D',
    name: 'p',
    ...p,
  });
  const bad: [string, GptPartition[], string][] = [
    [
      'a name longer than 36 UTF-16 units',
      [part({ name: 'a-very-long-partition-name-that-is-too-long' })],
      'cannot use partition name "a-very-long-partition-name-that-is-too-long": GPT names hold at most 36 UTF-16 code units; shorten the structure name',
    ],
    [
      'a partition inside the primary GPT',
      [part({ start: 20 })],
      'cannot place GPT partition "p" at sectors 20-2067: usable sectors are 34-9966; make the image larger or move the structure',
    ],
    [
      'a partition over the backup GPT',
      [part({ start: 9000, sectors: 968 })],
      'cannot place GPT partition "p" at sectors 9000-9967: usable sectors are 34-9966; make the image larger or move the structure',
    ],
    [
      'overlapping partitions',
      [part({ name: 'a' }), part({ name: 'b', start: 4000 })],
      'cannot place GPT partition "b" at sector 4000: it overlaps partition "a"',
    ],
    ['a malformed type GUID', [part({ typeGuid: 'EF' })], 'cannot use GUID "EF": write it as 8-4-4-4-12 hex digits'],
  ];
  for (const [name, partitions, message] of bad) {
    test(`rejects ${name}`, () => {
      assert.throws(
        () => encodeGpt({ sectorSize: 512, diskSectors: 10000, diskGuid: linux, partitions }),
        (err: unknown) => isCoreforgeError(err) && err.kind === 'invalid-partition-table' && err.message === message,
      );
    });
  }
});
