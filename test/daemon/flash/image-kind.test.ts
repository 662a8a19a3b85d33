import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { imageHeadBytes, recogniseImage } from '../../../daemon/flash/image-kind.js';

/** A head of zeros with `bytes` written at `offset`. */
function head(...marks: [number, string | number[]][]): Buffer {
  const b = Buffer.alloc(imageHeadBytes);
  for (const [offset, bytes] of marks) (typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : Buffer.from(bytes)).copy(b, offset);
  return b;
}

describe('recognising what an image starts with', () => {
  const flashable: [string, Buffer, string][] = [
    ['an MBR boot signature', head([510, [0x55, 0xaa]]), 'an MBR partition table'],
    ['a GPT header after a protective MBR', head([510, [0x55, 0xaa]], [512, 'EFI PART']), 'a GPT partition table'],
    ['a GPT header for 4096-byte sectors', head([4096, 'EFI PART']), 'a GPT partition table'],
    ['a FAT32 boot sector', head([510, [0x55, 0xaa]], [82, 'FAT32   ']), 'a FAT filesystem'],
    ['an ext4 superblock', head([1080, [0x53, 0xef]]), 'an ext2/3/4 filesystem'],
    ['a squashfs (a .snap)', head([0, 'hsqs']), 'a squashfs filesystem'],
    ['an ISO 9660 volume', head([0x8001, 'CD001']), 'an ISO 9660 filesystem'],
    ['a btrfs superblock', head([0x10040, '_BHRfS_M']), 'a btrfs filesystem'],
  ];
  for (const [name, bytes, what] of flashable) {
    it(`accepts ${name}`, () => assert.deepEqual(recogniseImage(bytes, 1 << 30), { flashable: true, what }));
  }

  const model = Buffer.from('type: model\nauthority-id: brand1\nseries: 16\n\nAcLBXAQAAQoABgUCW...\n');
  const refused: [string, Buffer, number | null, string][] = [
    ['a signed model', model, model.length, 'it is an assertion (text starting "type: model"), not an image'],
    ['a JSON statement', Buffer.from('{"type": "model"}\n'), 18, 'it is a JSON document (starting "{\\"type\\": \\"model\\"}"), not an image'],
    ['a text file', Buffer.from('hello world, this line is longer than forty characters\n'), 55, 'it is text starting "hello world, this line is longer than fo..."'],
    ['an empty file', Buffer.alloc(0), 0, 'it is empty'],
    ['a file of zeros', Buffer.alloc(4096), 4096, 'it is all zeros'],
    ['an image of zeros at its start', Buffer.alloc(imageHeadBytes), 1 << 30, 'its first 68 KiB are all zeros'],
    ['a qcow2 disk', head([0, [0x51, 0x46, 0x49, 0xfb, 0, 0, 0, 3]]), 1 << 20, 'it is a qcow2 virtual disk (convert it first: qemu-img convert -O raw IMAGE.qcow2 IMAGE.img)'],
    ['random bytes', head([0, [0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4]]), null, 'it starts with the bytes de ad be ef 01 02 03 04, which are no partition table or filesystem coreforge knows'],
  ];
  for (const [name, bytes, size, found] of refused) {
    it(`refuses ${name}, saying what it is`, () => assert.deepEqual(recogniseImage(bytes, size), { flashable: false, found }));
  }
});
