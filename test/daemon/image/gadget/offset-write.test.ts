import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { layoutGadget } from '../../../../daemon/image/gadget/layout.js';
import { loadGadget } from '../../../../daemon/image/gadget/load.js';
import { offsetWrites } from '../../../../daemon/image/gadget/offset-write.js';
import { gadgetFixture } from '../fixtures.js';

describe('offsetWrites', () => {
  test('stores the BIOS Boot start sector at mbr+92 for the pc gadget, as grub expects', () => {
    const [v] = layoutGadget(loadGadget(gadgetFixture('pc-uc18')), { sectorSize: 512, systemDataSize: 1 << 20 });
    assert.deepEqual(offsetWrites(v!), [{ offset: 92, data: Uint8Array.from([0x00, 0x08, 0x00, 0x00]) }]);
  });

  test('counts in 4096-byte sectors when the image uses them', () => {
    const [v] = layoutGadget(loadGadget(gadgetFixture('pc-uc20')), { sectorSize: 4096 });
    assert.deepEqual(offsetWrites(v!), [{ offset: 92, data: Uint8Array.from([0x00, 0x01, 0x00, 0x00]) }]);
  });

  test('writes nothing for gadgets without offset-write', () => {
    const [v] = layoutGadget(loadGadget(gadgetFixture('pi-uc22')), { sectorSize: 512 });
    assert.deepEqual(offsetWrites(v!), []);
  });
});
