import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type DriveFacts, driveVerdict, isRefused, refusal } from '../../../daemon/flash/verdict.js';

const GB = 1e9;
const card: DriveFacts = { path: '/dev/sdb', size: 32 * GB, readOnly: false, isLoop: false, mountpoints: [], holders: [], holdsImage: false };
const imageSize = 4 * GB;

describe('drive verdicts', () => {
  const table: [string, Partial<DriveFacts>, string, string[]][] = [
    ['an unmounted card is ok', {}, 'ok', []],
    ['a mounted card that holds no system directory is mounted, each mount point a reason', { mountpoints: ['/media/u/boot', '/media/u/root'] }, 'mounted', ['mounted on /media/u/boot', 'mounted on /media/u/root']],
    ['the drive holding / is a system drive', { mountpoints: ['/'] }, 'system', ['system drive: holds /']],
    ['a drive with /boot/efi is a system drive', { mountpoints: ['/home', '/boot/efi'] }, 'system', ['system drive: holds /boot/efi', 'mounted on /home']],
    ['a drive with swap is a system drive', { mountpoints: ['[SWAP]'] }, 'system', ['system drive: holds swap']],
    ['a drive under LVM is a system drive', { holders: ['dm-0 (on sdb2)'] }, 'system', ['system drive: holds holders dm-0 (on sdb2)']],
    ['a write-protected card is read-only', { readOnly: true }, 'read-only', ['read-only']],
    ['a card smaller than the image is too small', { size: 2 * GB }, 'too-small', ['too small: 2000000000 bytes for a 4000000000-byte image']],
    ['a 256 GB drive is large', { size: 256 * GB }, 'large', ['large: 256.0 GB, more than an SD card or USB stick usually is']],
    ['the drive holding the image is the source', { holdsImage: true, mountpoints: ['/media/u/data'] }, 'source', ['holds the image file being flashed', 'mounted on /media/u/data']],
    ['a mounted card is mounted before it is large', { size: 256 * GB, mountpoints: ['/mnt/card'] }, 'mounted', ['mounted on /mnt/card', 'large: 256.0 GB, more than an SD card or USB stick usually is']],
    ['a system drive holding the image is a system drive first', { holdsImage: true, mountpoints: ['/'] }, 'system', ['system drive: holds /', 'holds the image file being flashed']],
    ['the most serious verdict wins', { readOnly: true, size: 1 * GB }, 'read-only', ['read-only', 'too small: 1000000000 bytes for a 4000000000-byte image']],
  ];
  for (const [name, facts, verdict, reasons] of table) {
    it(name, () => {
      assert.deepEqual(driveVerdict({ ...card, ...facts }, { imageSize }), { verdict, reasons });
    });
  }

  it('allows a system drive only when it is named', () => {
    const disk = { ...card, path: '/dev/sda', mountpoints: ['/'] };
    assert.equal(driveVerdict(disk, { imageSize, allowSystemDrives: ['/dev/sdb'] }).verdict, 'system');
    assert.deepEqual(driveVerdict(disk, { imageSize, allowSystemDrives: ['/dev/sda'] }), { verdict: 'ok', reasons: ['system drive (/) allowed by name'] });
  });

  it('keeps refusing a system drive allowed by name when it holds the image', () => {
    const disk = { ...card, path: '/dev/sda', mountpoints: ['/'], holdsImage: true };
    assert.deepEqual(driveVerdict(disk, { imageSize, allowSystemDrives: ['/dev/sda'] }), { verdict: 'source', reasons: ['system drive (/) allowed by name', 'holds the image file being flashed'] });
  });

  it('does not call a drive too small while no image is chosen', () => {
    assert.equal(driveVerdict({ ...card, size: 1 }, { imageSize: null }).verdict, 'ok');
  });

  it('refuses system, source, read-only and too-small drives and only warns about large ones', () => {
    assert.deepEqual((['ok', 'mounted', 'large', 'system', 'source', 'read-only', 'too-small'] as const).map(isRefused), [false, false, false, true, true, true, true]);
  });

  const refusals: [Partial<DriveFacts>, string, string][] = [
    [{ mountpoints: ['/', '/boot'] }, 'system-drive', 'cannot flash /dev/sdb: system drive: holds /, /boot; pick another drive; if you really mean to erase this one, name it with --allow-system-drive'],
    [{ holdsImage: true }, 'source-drive', 'cannot flash /dev/sdb: holds the image file being flashed; copy the image to another drive first, or flash another drive'],
    [{ readOnly: true }, 'read-only-drive', 'cannot flash /dev/sdb: read-only; slide the write-protect switch off (or attach the loop device read-write) and try again'],
    [{ size: 2 * GB }, 'drive-too-small', 'cannot flash /dev/sdb: too small: 2000000000 bytes for a 4000000000-byte image; use a bigger drive'],
  ];
  for (const [facts, kind, message] of refusals) {
    it(`explains a ${kind} refusal with the drive, the rule and the fix`, () => {
      const err = refusal({ ...card, ...facts }, { imageSize });
      assert.ok(err);
      assert.equal(err.kind, kind);
      assert.equal(err.message, message);
    });
  }

  it('has no refusal for a large drive', () => {
    assert.equal(refusal({ ...card, size: 500 * GB }, { imageSize }), null);
  });
});
