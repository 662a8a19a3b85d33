import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isCoreforgeError } from '../../../../daemon/errors.js';
import { checkGadgetContent } from '../../../../daemon/image/gadget/content-check.js';
import { loadGadget } from '../../../../daemon/image/gadget/load.js';
import { gadgetFixture } from '../fixtures.js';

let root: string;

async function makeTree(dir: string, files: Record<string, string | number>): Promise<string> {
  await mkdir(dir, { recursive: true });
  for (const [path, content] of Object.entries(files)) {
    await mkdir(join(dir, path, '..'), { recursive: true });
    await writeFile(join(dir, path), typeof content === 'number' ? Buffer.alloc(content, 1) : content);
  }
  return dir;
}

async function pcGadget(name: string, overrides: Record<string, string | number> = {}): Promise<string> {
  return makeTree(join(root, name), {
    'pc-boot.img': 440,
    'pc-core.img': 30000,
    'grubx64.efi': 'grub',
    'shim.efi.signed': 'shim',
    'mmx64.efi': 'mm',
    'grub.cfg': 'cfg',
    ...overrides,
  });
}

function fsGadget(source: string, filesystem = 'vfat'): string {
  return `volumes:\n  pc:\n    bootloader: grub\n    structure:\n      - name: esp\n        type: EF,C12A7328-F81F-11D2-BA4B-00A0C93EC93B\n        filesystem: ${filesystem}\n        size: 1M\n        content:\n          - source: ${source}\n            target: /\n`;
}

async function contentError(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    assert.ok(isCoreforgeError(err), String(err));
    assert.equal(err.kind, 'invalid-gadget-content');
    return err.message;
  }
  assert.fail('expected invalid-gadget-content');
}

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'coreforge-content-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('checkGadgetContent', () => {
  test('resolves the pc gadget content and reports raw image sizes', async () => {
    const dir = await pcGadget('pc-ok');
    const checked = await checkGadgetContent(loadGadget(gadgetFixture('pc-uc18')), { gadgetDir: dir });
    assert.deepEqual(
      checked.map((c) => [c.name, c.files.map((f) => f.source), c.images.map((i) => [i.image, i.size])]),
      [
        ['mbr', [], [['pc-boot.img', 440]]],
        ['BIOS Boot', [], [['pc-core.img', 30000]]],
        ['EFI System', ['grubx64.efi', 'shim.efi.signed', 'mmx64.efi', 'grub.cfg'], []],
        ['', [], []],
      ],
    );
    assert.ok(checked[2]!.files[0]!.path!.endsWith('/pc-ok/grubx64.efi'));
  });

  test('rejects a missing source file', async () => {
    const dir = await pcGadget('pc-missing');
    await rm(join(dir, 'grub.cfg'));
    const message = await contentError(checkGadgetContent(loadGadget(gadgetFixture('pc-uc18')), { gadgetDir: dir }));
    assert.equal(message, 'structure #2 ("EFI System"), content source:grub.cfg: source path does not exist; add it to the gadget snap or fix the path');
  });

  test('rejects an mbr boot image larger than the mbr structure', async () => {
    const dir = await pcGadget('pc-big-mbr', { 'pc-boot.img': 512 });
    const message = await contentError(checkGadgetContent(loadGadget(gadgetFixture('pc-uc18')), { gadgetDir: dir }));
    assert.equal(message, 'cannot lay out structure #0 ("mbr"): content "pc-boot.img" does not fit in the structure; it ends at 512 but the structure has 440 bytes');
  });

  test('rejects a raw image that is a directory', async () => {
    const dir = await pcGadget('pc-dir-image');
    await rm(join(dir, 'pc-core.img'));
    await mkdir(join(dir, 'pc-core.img'));
    const message = await contentError(checkGadgetContent(loadGadget(gadgetFixture('pc-uc18')), { gadgetDir: dir }));
    assert.equal(message, 'structure #1 ("BIOS Boot"): content "pc-core.img": image is not a regular file; point "image" at a file');
  });

  test('rejects a source that is a symlink out of the gadget snap', async () => {
    const outside = await makeTree(join(root, 'outside'), { secret: 'x' });
    const dir = await makeTree(join(root, 'escape'), {});
    await symlink(join(outside, 'secret'), join(dir, 'grub.cfg'));
    const message = await contentError(checkGadgetContent(loadGadget(fsGadget('grub.cfg')), { gadgetDir: dir }));
    assert.equal(
      message,
      `structure #0 ("esp"), content source:grub.cfg: path resolves to "${join(outside, 'secret')}", outside the gadget snap; replace the symlink with the file itself`,
    );
  });

  test('rejects a source reached through a symlinked directory out of the snap', async () => {
    const outside = await makeTree(join(root, 'outside-dir'), { 'f.txt': 'x' });
    const dir = await makeTree(join(root, 'escape-dir'), {});
    await symlink(outside, join(dir, 'assets'));
    const message = await contentError(checkGadgetContent(loadGadget(fsGadget('assets/f.txt')), { gadgetDir: dir }));
    assert.match(message, /^structure #0 \("esp"\), content source:assets\/f.txt: path resolves to ".*outside-dir\/f.txt", outside the gadget snap/);
  });

  test('rejects a symlink deep inside a vfat source directory that leads out of the snap', async () => {
    const outside = await makeTree(join(root, 'outside-deep'), { secret: 'x' });
    const dir = await makeTree(join(root, 'deep'), { 'boot-assets/sub/ok.txt': 'ok' });
    await symlink(join(outside, 'secret'), join(dir, 'boot-assets/sub/link'));
    const message = await contentError(checkGadgetContent(loadGadget(fsGadget('boot-assets/')), { gadgetDir: dir }));
    assert.equal(
      message,
      `structure #0 ("esp"), content source:boot-assets/: symlink "boot-assets/sub/link": path resolves to "${join(outside, 'secret')}", outside the gadget snap; replace the symlink with the file itself`,
    );
  });

  test('accepts symlinks inside an ext4 source directory, which are copied as symlinks', async () => {
    const dir = await makeTree(join(root, 'ext4-links'), { 'rootfs/etc/ok': 'ok' });
    await symlink('/etc/hostname', join(dir, 'rootfs/etc/link'));
    const checked = await checkGadgetContent(loadGadget(fsGadget('rootfs/', 'ext4')), { gadgetDir: dir });
    assert.equal(checked[0]!.files.length, 1);
  });

  test('accepts symlinks that stay inside the snap', async () => {
    const dir = await makeTree(join(root, 'inner-links'), { 'boot-assets/a.txt': 'a', 'shared/b.txt': 'b' });
    await symlink('../shared', join(dir, 'boot-assets/shared'));
    const checked = await checkGadgetContent(loadGadget(fsGadget('boot-assets/')), { gadgetDir: dir });
    assert.equal(checked[0]!.files[0]!.source, 'boot-assets/');
  });

  test('rejects a dangling symlink', async () => {
    const dir = await makeTree(join(root, 'dangling'), {});
    await symlink('nowhere', join(dir, 'grub.cfg'));
    const message = await contentError(checkGadgetContent(loadGadget(fsGadget('grub.cfg')), { gadgetDir: dir }));
    assert.equal(message, 'structure #0 ("esp"), content source:grub.cfg: source path is a symlink to a missing file; replace it with the file itself');
  });

  test('rejects a trailing slash on a file source', async () => {
    const dir = await makeTree(join(root, 'slash'), { 'grub.cfg': 'x' });
    const message = await contentError(checkGadgetContent(loadGadget(fsGadget('grub.cfg/')), { gadgetDir: dir }));
    assert.match(message, /^structure #0 \("esp"\), content source:grub.cfg\/: /);
  });

  test('checks $kernel: references in the kernel snap when it is given, and skips them otherwise', async () => {
    const gadget = await makeTree(join(root, 'pi-gadget'), { 'boot-assets/config.txt': 'x' });
    const kernel = await makeTree(join(root, 'pi-kernel'), { 'dtbs/broadcom/bcm2710.dtb': 'd', 'dtbs/overlays/o.dtbo': 'o' });
    const pi = loadGadget(gadgetFixture('pi-uc18'));
    const without = await checkGadgetContent(pi, { gadgetDir: gadget });
    assert.deepEqual(without[0]!.files.map((f) => f.path === undefined), [true, true, false]);
    const withKernel = await checkGadgetContent(pi, { gadgetDir: gadget, kernelDir: kernel });
    assert.ok(withKernel[0]!.files[0]!.path!.endsWith('/pi-kernel/dtbs/broadcom'));
    await rm(join(kernel, 'dtbs/overlays'), { recursive: true });
    const message = await contentError(checkGadgetContent(pi, { gadgetDir: gadget, kernelDir: kernel }));
    assert.equal(message, 'structure #0, content source:$kernel:dtbs/dtbs/overlays/: source path does not exist; add it to the kernel snap or fix the path');
  });
});

describe('checkGadgetContent with emmc volumes', () => {
  const emmc = (image: string) =>
    'volumes:\n  pc:\n    bootloader: grub\n    structure:\n      - {name: mbr, type: mbr, size: 440, content: [{image: pc-boot.img}]}\n' +
    `  my-emmc:\n    schema: emmc\n    structure:\n      - {name: boot0, content: [{image: ${image}}]}\n`;

  test('finds the images of the hardware partitions, whatever their size (the hardware sets the room)', async () => {
    const dir = await makeTree(join(root, 'emmc'), { 'pc-boot.img': 440, 'boot0.img': 4 * 1024 * 1024 });
    const checked = await checkGadgetContent(loadGadget(emmc('boot0.img')), { gadgetDir: dir });
    assert.deepEqual(checked.find((c) => c.volume === 'my-emmc')!.images.map((i) => [i.image, i.size]), [['boot0.img', 4 * 1024 * 1024]]);
    assert.match(await contentError(checkGadgetContent(loadGadget(emmc('missing.img')), { gadgetDir: dir })), /structure #0 \("boot0"\): content "missing.img": source path does not exist/);
  });
});
