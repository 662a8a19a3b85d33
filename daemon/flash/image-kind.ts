// Pure: what the start of an image is, so a file that is no disk image (a
// model, a snap's text file, a qcow2) is not written to a card by mistake.

/** Bytes of the (decompressed) image's start needed to recognise it: up to btrfs' superblock magic at 64 KiB + 64. */
export const imageHeadBytes = 68 * 1024;

/** What an image starts with: a partition table or a filesystem (flashable), or neither, with what was found instead. */
export type ImageKind = { flashable: true; what: string } | { flashable: false; found: string };

interface Magic {
  offset: number;
  bytes: string | number[];
  what: string;
}

const bytesOf = (m: Magic): number[] => (typeof m.bytes === 'string' ? [...Buffer.from(m.bytes, 'latin1')] : m.bytes);

function at(head: Uint8Array, m: Magic): boolean {
  const bytes = bytesOf(m);
  return head.length >= m.offset + bytes.length && bytes.every((b, i) => head[m.offset + i] === b);
}

/** Filesystems and containers a drive may hold without a partition table (checked after the partition tables). */
const filesystems: Magic[] = [
  { offset: 1080, bytes: [0x53, 0xef], what: 'an ext2/3/4 filesystem' },
  { offset: 0, bytes: 'hsqs', what: 'a squashfs filesystem' },
  { offset: 0x8001, bytes: 'CD001', what: 'an ISO 9660 filesystem' },
  { offset: 0x10040, bytes: '_BHRfS_M', what: 'a btrfs filesystem' },
  { offset: 0, bytes: 'XFSB', what: 'an XFS filesystem' },
  { offset: 1024, bytes: [0x10, 0x20, 0xf5, 0xf2], what: 'an F2FS filesystem' },
  { offset: 0, bytes: [0x4c, 0x55, 0x4b, 0x53, 0xba, 0xbe], what: 'a LUKS volume' },
  { offset: 4086, bytes: 'SWAPSPACE2', what: 'a swap area' },
];

/** Formats that are not disk images, named so the user knows what they picked. */
const others: Magic[] = [
  { offset: 0, bytes: [0x51, 0x46, 0x49, 0xfb], what: 'a qcow2 virtual disk (convert it first: qemu-img convert -O raw IMAGE.qcow2 IMAGE.img)' },
  { offset: 0, bytes: 'KDMV', what: 'a VMDK virtual disk (convert it first: qemu-img convert -O raw IMAGE.vmdk IMAGE.img)' },
  { offset: 0, bytes: 'conectix', what: 'a VHD virtual disk (convert it first: qemu-img convert -O raw IMAGE.vhd IMAGE.img)' },
  { offset: 0, bytes: [0x7f, 0x45, 0x4c, 0x46], what: 'an ELF executable' },
  { offset: 0, bytes: '%PDF', what: 'a PDF document' },
  { offset: 0, bytes: 'ustar', what: 'a tar archive' },
  { offset: 257, bytes: 'ustar', what: 'a tar archive' },
];

function isText(head: Uint8Array): boolean {
  const sample = head.subarray(0, 4096);
  if (sample.length === 0) return false;
  for (const b of sample) if (b === 0 || (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d)) return false;
  return true;
}

function describeText(head: Uint8Array): string {
  const text = Buffer.from(head.subarray(0, 4096)).toString('utf8');
  const first = text.split('\n', 1)[0]!.trim();
  const shown = JSON.stringify(first.length > 40 ? `${first.slice(0, 40)}...` : first);
  if (/^type: [a-z-]+$/.test(first)) return `an assertion (text starting ${shown}), not an image`;
  if (first.startsWith('{')) return `a JSON document (starting ${shown}), not an image`;
  return `text starting ${shown}`;
}

/**
 * Recognises an image from its first bytes (`imageHeadBytes` of them, or the
 * whole image when it is shorter): an MBR or GPT partition table (which a FAT
 * boot sector also carries), or a filesystem written to the whole drive.
 */
export function recogniseImage(head: Uint8Array, imageSize: number | null): ImageKind {
  if (imageSize === 0 || head.length === 0) return { flashable: false, found: 'it is empty' };
  for (const sector of [512, 4096]) {
    if (at(head, { offset: sector, bytes: 'EFI PART', what: '' })) return { flashable: true, what: 'a GPT partition table' };
  }
  if (at(head, { offset: 510, bytes: [0x55, 0xaa], what: '' })) {
    if (at(head, { offset: 3, bytes: 'NTFS    ', what: '' })) return { flashable: true, what: 'an NTFS filesystem' };
    if (at(head, { offset: 3, bytes: 'EXFAT   ', what: '' })) return { flashable: true, what: 'an exFAT filesystem' };
    if (at(head, { offset: 82, bytes: 'FAT32', what: '' }) || at(head, { offset: 54, bytes: 'FAT', what: '' })) return { flashable: true, what: 'a FAT filesystem' };
    return { flashable: true, what: 'an MBR partition table' };
  }
  const fs = filesystems.find((m) => at(head, m));
  if (fs) return { flashable: true, what: fs.what };
  const other = others.find((m) => at(head, m));
  if (other) return { flashable: false, found: `it is ${other.what}` };
  const length = imageSize === null ? head.length : Math.min(head.length, imageSize);
  if (head.subarray(0, length).every((b) => b === 0)) {
    return { flashable: false, found: length === imageSize ? 'it is all zeros' : `its first ${Math.round(length / 1024)} KiB are all zeros` };
  }
  if (isText(head.subarray(0, length))) return { flashable: false, found: `it is ${describeText(head.subarray(0, length))}` };
  const hex = [...head.subarray(0, 8)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
  return { flashable: false, found: `it starts with the bytes ${hex}, which are no partition table or filesystem coreforge knows` };
}
