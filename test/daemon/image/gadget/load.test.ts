import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadGadget, type LoadGadgetOptions } from '../../../../daemon/image/gadget/load.js';
import type { ModelTraits } from '../../../../daemon/image/gadget/types.js';
import { isCoreforgeError } from '../../../../daemon/errors.js';
import { gadgetFixture } from '../fixtures.js';

const uc18: ModelTraits = { uc20: false, classic: false };
const uc20: ModelTraits = { uc20: true, classic: false };

/** A one-volume gadget.yaml with the given structure list (YAML, indented for `structure:`). */
function volume(structures: string, header = 'bootloader: grub'): string {
  return `volumes:\n  pc:\n    ${header}\n    structure:\n${structures}`;
}

function loadError(text: string, options?: LoadGadgetOptions): { kind: string; message: string } {
  try {
    loadGadget(text, options);
  } catch (err) {
    if (isCoreforgeError(err)) return { kind: err.kind, message: err.message };
    throw err;
  }
  assert.fail('expected loadGadget to throw');
}

const bare = (name: string, extra = '') => `      - name: ${name}\n        type: bare\n        size: 1M\n${extra}`;

describe('loadGadget with real gadgets', () => {
  test('reads the UC18 pc gadget: mbr, BIOS Boot with offset-write, ESP, and an implicit writable', () => {
    const g = loadGadget(gadgetFixture('pc-uc18'), { model: uc18 });
    assert.equal(g.volumes.length, 1);
    const pc = g.volumes[0]!;
    assert.deepEqual([pc.name, pc.schema, pc.bootloader], ['pc', 'gpt', 'grub']);
    const summary = pc.structures.map((s) => [s.name, s.role, s.label, s.type, s.filesystem, s.offset, s.size, s.implicit]);
    assert.deepEqual(summary, [
      ['mbr', 'mbr', '', 'mbr', '', 0, 440, false],
      ['BIOS Boot', '', '', 'DA,21686148-6449-6E6F-744E-656564454649', '', 1048576, 1048576, false],
      ['EFI System', 'system-boot', 'system-boot', 'EF,C12A7328-F81F-11D2-BA4B-00A0C93EC93B', 'vfat', 2097152, 52428800, false],
      ['', 'system-data', 'writable', '83,0FC63DAF-8483-4772-8E79-3D69D8477DE4', 'ext4', 54525952, 0, true],
    ]);
    assert.deepEqual(pc.structures[1]!.offsetWrite, { relativeTo: 'mbr', offset: 92 });
    assert.deepEqual(pc.structures[0]!.content, [{ kind: 'image', image: 'pc-boot.img' }]);
    assert.deepEqual(pc.structures[2]!.content[1], {
      kind: 'file',
      source: 'shim.efi.signed',
      target: 'EFI/boot/bootx64.efi',
      unpack: false,
    });
  });

  test('reads the UC20 pc gadget with the ubuntu-* labels its roles imply', () => {
    const pc = loadGadget(gadgetFixture('pc-uc20'), { model: uc20 }).volumes[0]!;
    assert.deepEqual(
      pc.structures.map((s) => [s.name, s.role, s.label, s.filesystem, s.offset, s.size, s.update.edition]),
      [
        ['mbr', 'mbr', '', '', 0, 440, 1],
        ['BIOS Boot', '', '', '', 1048576, 1048576, 2],
        ['ubuntu-seed', 'system-seed', 'ubuntu-seed', 'vfat', 2097152, 1258291200, 2],
        ['ubuntu-boot', 'system-boot', 'ubuntu-boot', 'ext4', 1260388352, 786432000, 1],
        ['ubuntu-save', 'system-save', 'ubuntu-save', 'ext4', 2046820352, 16777216, 0],
        ['ubuntu-data', 'system-data', 'ubuntu-data', 'ext4', 2063597568, 1073741824, 0],
      ],
    );
  });

  test('labels an unlabelled system-seed with its name when no model is given, as ubuntu-image does', () => {
    const pc = loadGadget(gadgetFixture('pc-uc20')).volumes[0]!;
    assert.equal(pc.structures[2]!.label, 'ubuntu-seed');
    assert.equal(pc.structures[3]!.label, '');
  });

  test('reads the UC18 pi gadget: mbr schema, unnamed vfat system-boot of type 0C, $kernel: content', () => {
    const pi = loadGadget(gadgetFixture('pi-uc18'), { model: uc18 }).volumes[0]!;
    assert.deepEqual([pi.schema, pi.bootloader], ['mbr', 'u-boot']);
    assert.deepEqual(
      pi.structures.map((s) => [s.name, s.role, s.label, s.type, s.offset, s.size]),
      [
        ['', 'system-boot', 'system-boot', '0C', 1048576, 268435456],
        ['', 'system-data', 'writable', '83,0FC63DAF-8483-4772-8E79-3D69D8477DE4', 269484032, 0],
      ],
    );
    assert.equal((pi.structures[0]!.content[0] as { source: string }).source, '$kernel:dtbs/dtbs/broadcom/');
  });

  test('reads the UC22 pi gadget with the piboot bootloader', () => {
    const pi = loadGadget(gadgetFixture('pi-uc22'), { model: uc20 }).volumes[0]!;
    assert.equal(pi.bootloader, 'piboot');
    assert.deepEqual(pi.structures.map((s) => s.label), ['ubuntu-seed', 'ubuntu-boot', 'ubuntu-save', 'ubuntu-data']);
  });

  test('keeps scalars as written: leading zeros, numbers as types, YAML 1.1 booleans for unpack', () => {
    const g = loadGadget(
      volume(`      - name: raw\n        type: 01\n        size: 1M\n      - name: fs\n        type: 83\n        filesystem: ext4\n        size: 1M\n        content:\n          - source: a\n            target: /\n            unpack: yes\n`, 'bootloader: u-boot\n    schema: mbr'),
    );
    const [raw, fs] = g.volumes[0]!.structures;
    assert.equal(raw!.type, '01');
    assert.equal(fs!.type, '83');
    assert.equal((fs!.content[0] as { unpack: boolean }).unpack, true);
  });

  test('orders structures by offset and places structures without offset after the previous one', () => {
    const g = loadGadget(
      volume(`      - name: b\n        type: bare\n        size: 1M\n        offset: 4M\n      - name: c\n        type: bare\n        size: 1M\n      - name: a\n        type: bare\n        size: 1M\n        offset: 1M\n`),
      { implicitSystemData: false },
    );
    assert.deepEqual(g.volumes[0]!.structures.map((s) => [s.name, s.offset, s.yamlIndex]), [
      ['a', 1048576, 2],
      ['b', 4194304, 0],
      ['c', 5242880, 1],
    ]);
  });

  test('adds no implicit system-data to multi-volume gadgets or when asked not to', () => {
    const two = `volumes:\n  one:\n    bootloader: grub\n    structure:\n      - name: x\n        type: bare\n        size: 1M\n  two:\n    structure:\n      - name: y\n        type: bare\n        size: 1M\n`;
    assert.deepEqual(loadGadget(two).volumes.map((v) => v.structures.length), [1, 1]);
    assert.equal(loadGadget(gadgetFixture('pc-uc18'), { implicitSystemData: false }).volumes[0]!.structures.length, 3);
  });

  test('keeps volumes in file order, also for numeric names, and ignores keys such as __proto__', () => {
    const yaml = `volumes:\n  pc:\n    bootloader: grub\n    __proto__:\n      schema: mbr\n    structure:\n${bare('x')}  10:\n    structure:\n${bare('y')}`;
    const g = loadGadget(yaml);
    assert.deepEqual(g.volumes.map((v) => [v.name, v.schema]), [
      ['pc', 'gpt'],
      ['10', 'gpt'],
    ]);
  });

  test('accepts a system-boot-state structure with an explicit offset and the U-Boot environment type', () => {
    const g = loadGadget(
      volume(`      - name: env\n        role: system-boot-state\n        type: 3DE21764-95BD-54BD-A5C3-4ABE786F38A8\n        offset: 1M\n        size: 1M\n`),
    );
    assert.equal(g.volumes[0]!.structures[0]!.role, 'system-boot-state');
  });
});

const invalid: { name: string; yaml: string; options?: LoadGadgetOptions; message: string }[] = [
  { name: 'not YAML', yaml: 'volumes: [1', message: 'cannot parse gadget metadata: Flow sequence in block collection must be sufficiently indented and end with a ]' },
  { name: 'duplicate keys', yaml: 'volumes:\nvolumes:\n', message: 'cannot parse gadget metadata: Map keys must be unique' },
  { name: 'volumes as a list', yaml: 'volumes:\n  - pc\n', message: 'cannot parse gadget metadata: volumes: expected a mapping' },
  { name: 'no volumes', yaml: 'defaults: {}\n', message: 'no volume in the gadget.yaml; specify at least one volume under "volumes"' },
  { name: 'an empty volume', yaml: 'volumes:\n  pc:\n', message: 'volume "pc" stanza is empty; describe its "structure" list or remove it' },
  { name: 'a bad size suffix', yaml: volume(`      - name: x\n        type: bare\n        size: 1K\n`), message: 'cannot parse gadget metadata: cannot parse size "1K": invalid suffix "K" (at volumes.pc.structure[0].size)' },
  { name: 'a negative size', yaml: volume(`      - name: x\n        type: bare\n        size: -1\n`), message: 'cannot parse gadget metadata: cannot parse size "-1": size cannot be negative (at volumes.pc.structure[0].size)' },
  { name: 'a size without a number', yaml: volume(`      - name: x\n        type: bare\n        size: M\n`), message: 'cannot parse gadget metadata: cannot parse size "M": no numerical prefix (at volumes.pc.structure[0].size)' },
  { name: 'a fractional offset', yaml: volume(`      - name: x\n        type: bare\n        size: 1M\n        offset: 1.5M\n`), message: 'cannot parse gadget metadata: cannot parse offset "1.5M": invalid suffix ".5M" (at volumes.pc.structure[0].offset)' },
  { name: 'an offset-write without offset', yaml: volume(bare('x', '        offset-write: mbr+\n')), message: 'cannot parse gadget metadata: cannot parse relative offset "mbr+": missing offset (at volumes.pc.structure[0].offset-write)' },
  { name: 'an offset-write above 4G', yaml: volume(bare('x', '        offset-write: 5G\n')), message: 'cannot parse gadget metadata: cannot parse relative offset "5G": offset above 4G limit (at volumes.pc.structure[0].offset-write)' },
  { name: 'a bad edition', yaml: volume(bare('x', '        update:\n          edition: borked\n')), message: 'cannot parse gadget metadata: "edition" must be a positive number, not "borked" (at volumes.pc.structure[0].update.edition)' },
  { name: 'a bad unpack', yaml: volume(`      - name: x\n        type: 83,0FC63DAF-8483-4772-8E79-3D69D8477DE4\n        filesystem: ext4\n        size: 1M\n        content:\n          - source: a\n            target: b\n            unpack: maybe\n`), message: 'cannot parse gadget metadata: volumes.pc.structure[0].content[0].unpack: cannot parse "maybe" as a boolean; use true or false' },
  { name: 'a structure list as a mapping', yaml: 'volumes:\n  pc:\n    bootloader: grub\n    structure:\n      name: x\n', message: 'cannot parse gadget metadata: volumes.pc.structure: expected a list' },
  { name: 'an invalid volume name', yaml: 'volumes:\n  p_c:\n    bootloader: grub\n    structure:\n' + bare('x'), message: 'invalid volume "p_c": invalid name; use letters, digits and dashes, starting with a letter or digit (2 characters or more)' },
  { name: 'an unknown schema', yaml: volume(bare('x'), 'bootloader: grub\n    schema: dos'), message: 'invalid volume "pc": invalid schema "dos"; use "mbr", "gpt" or, for eMMC boot partitions, "emmc"' },
  { name: 'a partial gadget, for a build', yaml: volume(bare('x'), 'bootloader: grub\n    partial: [size]'), message: 'cannot build an image of gadget volume "pc": it leaves size to an installer (partial: [size]); such a gadget is valid for installers, but an image needs every volume described in full: give the missing values and drop "partial"' },
  { name: 'a missing size', yaml: volume(`      - name: x\n        type: bare\n`), message: 'invalid volume "pc": invalid structure #0 ("x"): missing size; set "size" in bytes or with an M or G suffix' },
  { name: 'min-size above size', yaml: volume(bare('x', '        min-size: 2M\n')), message: 'invalid volume "pc": invalid structure #0 ("x"): min-size (2097152) is bigger than size (1048576); lower "min-size" or raise "size"' },
  { name: 'a missing type', yaml: volume(`      - name: x\n        size: 1M\n`), message: 'invalid volume "pc": invalid structure #0 ("x"): invalid type "": type is not specified; set "type": use 2 upper-case hex digits (MBR), a GUID (GPT), "XX,GUID" (both), "bare" or "mbr"' },
  { name: 'a malformed type', yaml: volume(`      - type: bogus\n        size: 1M\n`), message: 'invalid volume "pc": invalid structure #0: invalid type "bogus": invalid format; use 2 upper-case hex digits (MBR), a GUID (GPT), "XX,GUID" (both), "bare" or "mbr"' },
  { name: 'a lower-case MBR type', yaml: volume(`      - name: x\n        type: 0c\n        size: 1M\n`, 'bootloader: u-boot\n    schema: mbr'), message: 'invalid volume "pc": invalid structure #0 ("x"): invalid type "0c": invalid format; use 2 upper-case hex digits (MBR), a GUID (GPT), "XX,GUID" (both), "bare" or "mbr"' },
  { name: 'a malformed hybrid type', yaml: volume(`      - name: x\n        type: EF,C12A7328\n        size: 1M\n`), message: 'invalid volume "pc": invalid structure #0 ("x"): invalid type "EF,C12A7328": invalid format of hybrid type; write it as 2 upper-case hex digits, a comma and a GUID, e.g. "EF,C12A7328-F81F-11D2-BA4B-00A0C93EC93B"' },
  { name: 'an MBR type on gpt', yaml: volume(`      - name: x\n        type: 0C\n        size: 1M\n`), message: 'invalid volume "pc": invalid structure #0 ("x"): invalid type "0C": MBR structure type with non-MBR schema "gpt"; use a hybrid "XX,GUID" type or schema mbr' },
  { name: 'a GUID type on mbr', yaml: volume(`      - name: x\n        type: C12A7328-F81F-11D2-BA4B-00A0C93EC93B\n        size: 1M\n`, 'bootloader: grub\n    schema: mbr'), message: 'invalid volume "pc": invalid structure #0 ("x"): invalid type "C12A7328-F81F-11D2-BA4B-00A0C93EC93B": GUID structure type with non-GPT schema "mbr"; use a hybrid "XX,GUID" type or schema gpt' },
  { name: 'an unknown role', yaml: volume(bare('x', '        role: system-foo\n').replace('bare', '83,0FC63DAF-8483-4772-8E79-3D69D8477DE4')), message: 'invalid volume "pc": invalid structure #0 ("x"): invalid role "system-foo": unsupported role; use one of mbr, system-boot, system-data, system-seed, system-seed-null, system-save, system-boot-state, system-boot-image, system-boot-select, system-seed-image, system-seed-select, bootimg, bootselect' },
  { name: 'a bare structure with a role', yaml: volume(bare('x', '        role: system-boot\n')), message: 'invalid volume "pc": invalid structure #0 ("x"): invalid role "system-boot": conflicting type: "bare"; drop the role or give the structure a partition type' },
  { name: 'legacy type mbr with another role', yaml: volume(`      - name: x\n        type: mbr\n        role: system-boot\n        size: 440\n`), message: 'invalid volume "pc": invalid structure #0 ("x"): invalid role "system-boot": conflicting legacy type: "mbr"; use role mbr with type mbr' },
  { name: 'an mbr larger than 446 bytes', yaml: volume(`      - name: mbr\n        type: mbr\n        size: 447\n`), message: 'invalid volume "pc": invalid structure #0 ("mbr"): invalid role "mbr": mbr structures cannot be larger than 446 bytes; shrink "size"' },
  { name: 'an mbr away from offset 0', yaml: volume(`      - name: mbr\n        role: mbr\n        type: bare\n        size: 440\n        offset: 512\n`), message: 'invalid volume "pc": invalid structure #0 ("mbr"): invalid role "mbr": mbr structure must start at offset 0; make it the first structure, without "offset"' },
  { name: 'an mbr that is not first', yaml: volume(bare('x', '        offset: 0\n').replace('size: 1M', 'size: 100') + `      - name: mbr\n        type: mbr\n        size: 440\n`), message: 'invalid volume "pc": invalid structure #1 ("mbr"): invalid role "mbr": mbr structure must start at offset 0; make it the first structure, without "offset"' },
  { name: 'an mbr with an id', yaml: volume(`      - name: mbr\n        type: mbr\n        size: 440\n        id: 12345678-1234-1234-1234-123456789012\n`), message: 'invalid volume "pc": invalid structure #0 ("mbr"): invalid role "mbr": mbr structure must not specify partition ID; remove "id"' },
  { name: 'an mbr with a filesystem', yaml: volume(`      - name: mbr\n        type: mbr\n        size: 440\n        filesystem: vfat\n`), message: 'invalid volume "pc": invalid structure #0 ("mbr"): invalid role "mbr": mbr structures must not specify a file system; remove "filesystem"' },
  { name: 'a system-boot-state without offset', yaml: volume(`      - name: env\n        role: system-boot-state\n        type: 3DE21764-95BD-54BD-A5C3-4ABE786F38A8\n        size: 1M\n`), message: 'invalid volume "pc": invalid structure #0 ("env"): invalid role "system-boot-state": system-boot-state role requires explicit offset' },
  { name: 'a small system-boot-state', yaml: volume(`      - name: env\n        role: system-boot-state\n        type: 3DE21764-95BD-54BD-A5C3-4ABE786F38A8\n        offset: 1M\n        size: 512\n`), message: 'invalid volume "pc": invalid structure #0 ("env"): invalid role "system-boot-state": system-boot-state partition must be at least 1 MiB, got 512 B; raise "size"' },
  { name: 'an unknown filesystem', yaml: volume(`      - name: x\n        type: 83,0FC63DAF-8483-4772-8E79-3D69D8477DE4\n        filesystem: btrfs\n        size: 1M\n`), message: 'invalid volume "pc": invalid structure #0 ("x"): invalid filesystem "btrfs"; use one of none, vfat, vfat-16, vfat-32, ext4' },
  { name: 'a malformed partition id', yaml: volume(`      - name: x\n        type: 83,0FC63DAF-8483-4772-8E79-3D69D8477DE4\n        id: 1234\n        size: 1M\n`), message: 'invalid volume "pc": invalid structure #0 ("x"): invalid id "1234": partition ID must be a GUID; write it as 8-4-4-4-12 hex digits' },
  { name: 'file content in a bare structure', yaml: volume(bare('x', '        content:\n          - source: a\n            target: b\n')), message: 'invalid volume "pc": invalid structure #0 ("x"): invalid content #0: cannot use non-image content for bare file system; use "image" entries or give the structure a filesystem' },
  { name: 'bare content without image', yaml: volume(bare('x', '        content:\n          - offset: 0\n')), message: 'invalid volume "pc": invalid structure #0 ("x"): invalid content #0: missing image file name; set "image" to a file in the gadget snap' },
  { name: 'image content in a filesystem', yaml: volume(`      - name: x\n        type: 83,0FC63DAF-8483-4772-8E79-3D69D8477DE4\n        filesystem: ext4\n        size: 1M\n        content:\n          - image: a.img\n`), message: 'invalid volume "pc": invalid structure #0 ("x"): invalid content #0: cannot use image content for non-bare file system; use "source" and "target" entries' },
  { name: 'content without source', yaml: volume(`      - name: x\n        type: 83,0FC63DAF-8483-4772-8E79-3D69D8477DE4\n        filesystem: ext4\n        size: 1M\n        content:\n          - target: /\n`), message: 'invalid volume "pc": invalid structure #0 ("x"): invalid content #0: missing source; set "source" to a path in the gadget snap' },
  { name: 'content without target', yaml: volume(`      - name: x\n        type: 83,0FC63DAF-8483-4772-8E79-3D69D8477DE4\n        filesystem: ext4\n        size: 1M\n        content:\n          - source: a\n`), message: 'invalid volume "pc": invalid structure #0 ("x"): invalid content #0: missing target; set "target" to a path in the filesystem' },
  { name: 'a source with ..', yaml: volume(`      - name: x\n        type: 83,0FC63DAF-8483-4772-8E79-3D69D8477DE4\n        filesystem: ext4\n        size: 1M\n        content:\n          - source: boot/../../etc/shadow\n            target: /\n`), message: 'invalid volume "pc": invalid structure #0 ("x"): invalid content #0: filesystem content source "boot/../../etc/shadow" contains "../", which is disallowed for security purposes: it could reach outside the gadget snap; use a path inside the snap' },
  { name: 'an absolute source', yaml: volume(`      - name: x\n        type: 83,0FC63DAF-8483-4772-8E79-3D69D8477DE4\n        filesystem: ext4\n        size: 1M\n        content:\n          - source: /etc/shadow\n            target: /\n`), message: 'invalid volume "pc": invalid structure #0 ("x"): invalid content #0: filesystem content source "/etc/shadow" is absolute; use a path relative to the root of the gadget snap' },
  { name: 'a target with ..', yaml: volume(`      - name: x\n        type: 83,0FC63DAF-8483-4772-8E79-3D69D8477DE4\n        filesystem: ext4\n        size: 1M\n        content:\n          - source: a\n            target: ../a\n`), message: 'invalid volume "pc": invalid structure #0 ("x"): invalid content #0: filesystem content target "../a" contains "../", which could reach outside the filesystem; use a path inside it' },
  { name: 'an image with ..', yaml: volume(bare('x', '        content:\n          - image: ../x.img\n')), message: 'invalid volume "pc": invalid structure #0 ("x"): invalid content #0: content image "../x.img" contains "../", which is disallowed for security purposes: it could reach outside the gadget snap; use a path inside the snap' },
  { name: 'a malformed $kernel: reference', yaml: volume(`      - name: x\n        type: 83,0FC63DAF-8483-4772-8E79-3D69D8477DE4\n        filesystem: ext4\n        size: 1M\n        content:\n          - source: $kernel:dtbs\n            target: /\n`), message: 'invalid volume "pc": invalid structure #0 ("x"): invalid content #0: cannot use kernel reference "$kernel:dtbs": invalid asset and content in kernel ref "$kernel:dtbs"' },
  { name: 'preserve on a bare structure', yaml: volume(bare('x', '        update:\n          preserve: [a]\n')), message: 'invalid volume "pc": invalid structure #0 ("x"): preserving files during update is not supported for non-filesystem structures; remove "update.preserve"' },
  { name: 'a duplicate preserve entry', yaml: volume(`      - name: x\n        type: 83,0FC63DAF-8483-4772-8E79-3D69D8477DE4\n        filesystem: ext4\n        size: 1M\n        update:\n          preserve: [a, a]\n`), message: 'invalid volume "pc": invalid structure #0 ("x"): duplicate "preserve" entry "a"; list each path once' },
  { name: 'duplicate structure names', yaml: volume(bare('x') + bare('x')), message: 'invalid volume "pc": structure name "x" is not unique; give each structure its own name' },
  { name: 'duplicate labels', yaml: volume(`      - name: a\n        type: 83,0FC63DAF-8483-4772-8E79-3D69D8477DE4\n        filesystem: ext4\n        filesystem-label: foo\n        size: 1M\n      - name: b\n        type: 83,0FC63DAF-8483-4772-8E79-3D69D8477DE4\n        filesystem: ext4\n        filesystem-label: foo\n        size: 1M\n`), message: 'invalid volume "pc": filesystem label "foo" is not unique; give each structure its own "filesystem-label"' },
  { name: 'labels that differ only in case on vfat', yaml: volume(`      - name: a\n        type: EF,C12A7328-F81F-11D2-BA4B-00A0C93EC93B\n        filesystem: ext4\n        filesystem-label: BOOT\n        size: 1M\n      - name: b\n        type: EF,C12A7328-F81F-11D2-BA4B-00A0C93EC93B\n        filesystem: vfat\n        filesystem-label: boot\n        size: 1M\n`), message: 'invalid volume "pc": filesystem label "boot" is not unique; give each structure its own "filesystem-label"' },
  { name: 'a label a role implies taken by another structure', options: { model: uc18 }, yaml: volume(`      - name: a\n        type: 83,0FC63DAF-8483-4772-8E79-3D69D8477DE4\n        filesystem: ext4\n        filesystem-label: writable\n        size: 1M\n      - name: b\n        role: system-data\n        type: 83,0FC63DAF-8483-4772-8E79-3D69D8477DE4\n        filesystem: ext4\n        size: 1M\n`), message: 'invalid volume "pc": filesystem label "writable" is implied by system-data role but was already set elsewhere; rename the structure that uses it' },
  { name: 'overlapping structures', yaml: volume(bare('a', '        offset: 1M\n').replace('size: 1M', 'size: 2M') + bare('b', '        offset: 2M\n')), message: 'invalid volume "pc": structure "b" overlaps with the preceding structure "a"; move its "offset" to 3145728 or later' },
  { name: 'an offset-write relative to another structure', yaml: volume(`      - name: mbr\n        type: mbr\n        size: 440\n` + bare('x', '        offset-write: other+92\n')), message: 'invalid volume "pc": structure "x" refers to an unexpected structure "other"; offset-write can only be relative to the first structure, "mbr"' },
  { name: 'an offset-write outside the mbr', yaml: volume(`      - name: mbr\n        type: mbr\n        size: 440\n` + bare('x', '        offset-write: mbr+440\n')), message: 'invalid volume "pc": structure "x" wants to write offset of 4 bytes to 440, outside of referred structure "mbr"; use an offset-write inside it' },
  { name: 'an offset-write outside the volume', yaml: volume(bare('x', '        offset-write: 3M\n')), message: 'invalid volume "pc": structure "x" wants to write offset of 4 bytes to 3145728, outside of volume of min size 2097152; use an offset-write inside the volume' },
  { name: 'no bootloader', yaml: volume(bare('x'), 'schema: gpt'), message: 'bootloader not declared in any volume; set "bootloader" on the volume the device boots from' },
  { name: 'an unknown bootloader', yaml: volume(bare('x'), 'bootloader: syslinux'), message: 'bootloader must be one of grub, u-boot, android-boot, piboot or lk (volume "pc" has "syslinux")' },
  { name: 'two bootloaders', yaml: 'volumes:\n  one:\n    bootloader: grub\n    structure:\n' + bare('x') + '  two:\n    bootloader: u-boot\n    structure:\n' + bare('y'), message: 'too many (2) bootloaders declared; set "bootloader" on one volume only' },
  { name: 'piboot on UC18', options: { model: uc18 }, yaml: gadgetFixture('pi-uc22'), message: 'piboot bootloader valid only for UC20 onwards (volume "pi"); use u-boot for UC16/18 models' },
  { name: 'a UC20 gadget for a UC18 model', options: { model: uc18 }, yaml: gadgetFixture('pc-uc20'), message: 'model does not support the system-seed role; remove it or use a UC20+ model' },
  { name: 'a UC18 gadget for a UC20 model', options: { model: uc20 }, yaml: gadgetFixture('pc-uc18'), message: 'model requires system-seed partition, but no system-seed or system-data partition found; add system-seed, system-boot, system-save and system-data structures' },
  { name: 'system-seed without system-data', yaml: volume(`      - name: ubuntu-seed\n        role: system-seed\n        type: EF,C12A7328-F81F-11D2-BA4B-00A0C93EC93B\n        filesystem: vfat\n        size: 1M\n`), message: 'the system-seed role requires system-data to be defined; add a structure with role system-data' },
  { name: 'system-save on UC18', options: { model: uc18 }, yaml: volume(`      - name: save\n        role: system-save\n        type: 83,0FC63DAF-8483-4772-8E79-3D69D8477DE4\n        filesystem: ext4\n        size: 1M\n`), message: 'model does not support the system-save role; remove it or use a UC20+ model' },
  { name: 'two system-data structures', yaml: volume(`      - name: a\n        role: system-data\n        type: 83,0FC63DAF-8483-4772-8E79-3D69D8477DE4\n        filesystem: ext4\n        size: 1M\n      - name: b\n        role: system-data\n        type: 83,0FC63DAF-8483-4772-8E79-3D69D8477DE4\n        filesystem: ext4\n        size: 1M\n`), message: 'cannot have more than one partition with system-data role; keep one' },
  { name: 'a UC18 system-data labelled other than writable', yaml: volume(`      - name: a\n        role: system-data\n        type: 83,0FC63DAF-8483-4772-8E79-3D69D8477DE4\n        filesystem: ext4\n        filesystem-label: data\n        size: 1M\n`), message: 'system-data structure must have an implicit label or "writable", not "data"; remove "filesystem-label" or set it to "writable"' },
  { name: 'a reserved label without role', options: { model: uc18 }, yaml: volume(`      - name: a\n        type: 83,0FC63DAF-8483-4772-8E79-3D69D8477DE4\n        filesystem: ext4\n        filesystem-label: ubuntu-data\n        size: 1M\n`), message: 'invalid volume "pc": invalid structure #0 ("a"): label "ubuntu-data" is reserved; use another label or the matching role' },
  { name: 'classic with modes without system-boot', options: { model: { uc20: true, classic: true } }, yaml: volume(`      - name: a\n        role: system-data\n        type: 83,0FC63DAF-8483-4772-8E79-3D69D8477DE4\n        filesystem: ext4\n        size: 1M\n`), message: 'system-boot and system-data roles are needed on classic; add structures with those roles' },
];

describe('loadGadget rejects invalid gadgets with snapd-style messages', () => {
  for (const c of invalid) {
    test(`rejects ${c.name}`, () => {
      const err = loadError(c.yaml, c.options);
      assert.equal(err.kind, 'invalid-gadget');
      if (c.message.startsWith('cannot parse gadget metadata: ') && !c.message.includes('volume')) {
        assert.ok(err.message.startsWith(c.message), `got: ${err.message}`);
      } else {
        assert.equal(err.message, c.message);
      }
    });
  }
});

describe('loadGadget and partial gadgets', () => {
  const partial = 'volumes:\n  pc:\n    partial: [schema, size]\n    bootloader: grub\n    structure:\n' +
    '      - {name: seed, role: system-seed, type: "EF,C12A7328-F81F-11D2-BA4B-00A0C93EC93B", filesystem: vfat, size: 1M}\n' +
    '      - {name: data, role: system-data, type: "83,0FC63DAF-8483-4772-8E79-3D69D8477DE4", filesystem: ext4}\n' +
    '      - {name: after, type: "83,0FC63DAF-8483-4772-8E79-3D69D8477DE4", size: 1M}\n';

  test('accepts them for validation, offsets unknown after a size left to the installer', () => {
    const [v] = loadGadget(partial, { acceptPartial: true }).volumes;
    assert.deepEqual([v!.schema, v!.partial], ['', ['schema', 'size']]);
    assert.deepEqual(v!.structures.map((s) => [s.name, s.offset, s.size]), [['seed', 1048576, 1048576], ['data', 2097152, 0], ['after', undefined, 1048576]]);
  });

  test('refuses them for a build, after the other rules passed', () => {
    assert.deepEqual(loadError(partial), {
      kind: 'invalid-gadget',
      message: 'cannot build an image of gadget volume "pc": it leaves schema, size to an installer (partial: [schema, size]); such a gadget is valid for installers, but an image needs every volume described in full: give the missing values and drop "partial"',
    });
    assert.equal(
      loadError(partial.replace('{name: after, type: "83,0FC63DAF-8483-4772-8E79-3D69D8477DE4"', '{name: after, type: "83"')).message,
      'invalid volume "pc": invalid structure #2 ("after"): invalid type "83": both MBR type and GUID structure type needs to be defined on partial schemas; write it as "XX,GUID", which fits either table',
    );
  });
});
