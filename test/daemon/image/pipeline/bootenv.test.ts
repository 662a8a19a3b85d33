import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeGrubEnv, encodeGrubEnv, ubootEnvVars, updateUbootEnv } from '../../../../daemon/image/pipeline/bootenv.js';
import { parseEnvText, ubootEnvImage } from '../../../fixtures/ubootenv.js';

test('a grubenv block is 1024 bytes, header first, padded with #', () => {
  const block = encodeGrubEnv([['snap_mode', ''], ['snap_core', 'core18_x1.snap']]);
  assert.equal(block.length, 1024);
  const text = Buffer.from(block).toString('utf8');
  assert.ok(text.startsWith('# GRUB Environment Block\nsnap_mode=\nsnap_core=core18_x1.snap\n#'));
  assert.match(text, /#{900}$/);
  assert.deepEqual(decodeGrubEnv(block), [['snap_mode', ''], ['snap_core', 'core18_x1.snap']]);
});

test('rewriting a u-boot environment keeps its size and header, sorts keys, drops empty values and fixes the CRC', () => {
  const original = ubootEnvImage(parseEnvText('snap_mode=try\nbootdelay=2\nsnap_core=old.snap\n'), 131072);
  const updated = updateUbootEnv(original, { snap_core: 'core18_x1.snap', snap_kernel: 'pi-kernel_x1.snap', snap_mode: '' }, 'uboot.env');
  assert.equal(updated.length, 131072);
  assert.equal(updated[4], original[4], 'the redundant-format flags byte is kept');
  assert.deepEqual(ubootEnvVars(updated, 'uboot.env'), { bootdelay: '2', snap_core: 'core18_x1.snap', snap_kernel: 'pi-kernel_x1.snap' });
  assert.equal(Buffer.from(updated.subarray(5, 20)).toString('latin1'), 'bootdelay=2\0sna');
});

test('a u-boot environment with a bad CRC is refused', () => {
  const env = ubootEnvImage(parseEnvText('a=b\n'), 4096);
  env[10] ^= 0xff;
  assert.throws(() => updateUbootEnv(env, {}, 'uboot.conf of the gadget'), {
    message: 'cannot read u-boot environment uboot.conf of the gadget: its CRC32 does not match its contents; ship a valid uboot.env (mkenvimage) in the gadget',
  });
});
