import type { ByteWrite } from '../byte-write.js';
import { imageError } from '../errors.js';
import type { VolumeLayout } from './layout.js';

/**
 * Writes for `offset-write`: each structure that asks for it gets its start
 * sector stored as a 32-bit little-endian number at the given place (how the
 * pc gadget's MBR boot code finds core.img in the BIOS Boot partition).
 */
export function offsetWrites(volume: VolumeLayout): ByteWrite[] {
  const writes: ByteWrite[] = [];
  for (const s of volume.structures) {
    const ow = s.offsetWrite;
    if (!ow) continue;
    const base = ow.relativeTo === '' ? 0 : volume.structures.find((r) => r.name === ow.relativeTo)?.offset;
    if (base === undefined) {
      throw imageError('invalid-layout', `cannot apply offset-write of structure "${s.name}": no structure "${ow.relativeTo}" in volume "${volume.name}"`);
    }
    const at = base + ow.offset;
    const sector = s.offset / volume.sectorSize;
    if (at + 4 > volume.size) {
      throw imageError('invalid-layout', `cannot apply offset-write of structure "${s.name}": position ${at} is beyond the end of volume "${volume.name}"`);
    }
    if (sector > 0xffffffff) {
      throw imageError('invalid-layout', `cannot apply offset-write of structure "${s.name}": sector ${sector} does not fit in 32 bits`);
    }
    const data = new Uint8Array(4);
    new DataView(data.buffer).setUint32(0, sector, true);
    writes.push({ offset: at, data });
  }
  return writes;
}
