import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { bmapCandidates, loadBmap } from '../../../daemon/flash/find-bmap.js';
import { openImageSource as openImage } from '../../../daemon/flash/open-source.js';

/** The image's source; the file stays open until the test process ends. */
const openImageSource = async (path: string) => (await openImage(path)).source;
import type { ByteRange } from '../../../daemon/flash/ranges.js';
import type { ImageSource } from '../../../daemon/flash/source.js';
import { bmapFor, compressFile, haveTool, MiB, type TestImage, typicalRanges, writeImage } from './images.js';

async function collect(source: ImageSource, ranges: ByteRange[] | null, chunkSize = MiB): Promise<{ bytes: Buffer; offsets: number[] }> {
  const parts: Buffer[] = [];
  const offsets: number[] = [];
  let expectedOffset = ranges?.[0]?.start ?? 0;
  for await (const c of source.read(ranges, chunkSize)) {
    assert.ok(c.data.length <= chunkSize, 'chunks are at most chunkSize');
    if (!ranges) assert.equal(c.offset, expectedOffset, 'chunks come in order without gaps');
    expectedOffset = c.offset + c.data.length;
    offsets.push(c.offset);
    parts.push(Buffer.from(c.data));
  }
  return { bytes: Buffer.concat(parts), offsets };
}

function mapped(image: TestImage, ranges: ByteRange[]): Buffer {
  return Buffer.concat(ranges.map((r) => image.data.subarray(r.start, r.end)));
}

describe('image sources', () => {
  let dir: string;
  let image: TestImage;
  const kinds = [
    { kind: 'gzip' as const, tool: 'gzip' },
    { kind: 'xz' as const, tool: 'xz' },
    { kind: 'zstd' as const, tool: 'zstd' },
  ];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'coreforge-sources-'));
    image = await writeImage(join(dir, 'pi.img'), 16 * MiB, typicalRanges(16 * MiB));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads a raw image whole, in order, with its size known', async () => {
    const source = await openImageSource(image.path);
    assert.deepEqual([source.compression, source.size, source.fileSize], ['none', image.size, image.size]);
    assert.ok((await collect(source, null)).bytes.equals(image.data));
  });

  it('reads only the ranges asked for, never across a range boundary', async () => {
    const source = await openImageSource(image.path);
    const { bytes, offsets } = await collect(source, image.ranges, 1 << 19);
    assert.ok(bytes.equals(mapped(image, image.ranges)));
    assert.deepEqual(offsets.slice(0, 4), [0, MiB + 4096, MiB + 4096 + (1 << 19), 5 * MiB]);
  });

  for (const { kind, tool } of kinds) {
    it(`streams a ${kind} image to the same bytes, whole and by ranges`, { skip: !haveTool(tool) && `${tool} is not installed` }, async () => {
      const path = compressFile(image.path, kind);
      const source = await openImageSource(path);
      assert.equal(source.compression, kind);
      assert.equal(source.size, kind === 'gzip' ? null : image.size, 'xz and zstd record their size, gzip does not');
      assert.ok((await collect(source, null)).bytes.equals(image.data));
      assert.ok((await collect(source, image.ranges.slice(0, 3))).bytes.equals(mapped(image, image.ranges.slice(0, 3))), 'stops after the last range');
    });

    it(`refuses a truncated ${kind} image`, { skip: !haveTool(tool) && `${tool} is not installed` }, async () => {
      const full = compressFile(image.path, kind);
      const cut = join(dir, `cut-${kind}${full.slice(full.lastIndexOf('.'))}`);
      const bytes = await readFile(full);
      await writeFile(cut, bytes.subarray(0, Math.floor(bytes.length / 2)));
      const source = await openImageSource(cut);
      await assert.rejects(collect(source, null), {
        kind: 'truncated-image',
        message: new RegExp(`^cannot flash ${cut.replace(/[.]/g, '\\.')}: the ${kind} data ends too early \\(.+\\); the file is incomplete, download or copy it again$`),
      });
    });
  }

  it('refuses damaged xz data as corrupt, not truncated', { skip: !haveTool('xz') && 'xz is not installed' }, async () => {
    const full = compressFile(image.path, 'xz');
    const bytes = await readFile(full);
    for (let i = 200; i < 400; i++) bytes[i] = bytes[i]! ^ 0x55;
    const broken = join(dir, 'broken.img.xz');
    await writeFile(broken, bytes);
    await assert.rejects(collect(await openImageSource(broken), null), { kind: 'corrupt-image', message: /^cannot flash .*broken\.img\.xz: the xz data is damaged \(.+\); download or copy the image again$/ });
  });

  const badPaths: [string, () => string, string, (p: string) => string][] = [
    ['a missing image', () => join(dir, 'missing.img'), 'image-not-found', (p) => `cannot flash ${p}: no such file; check the path, or build the image first with "coreforge build"`],
    ['a directory', () => dir, 'image-not-found', (p) => `cannot flash ${p}: it is not a regular file; name the .img file (or its .gz, .xz, .zst)`],
  ];
  for (const [name, path, kind, message] of badPaths) {
    it(`refuses ${name}`, async () => {
      await assert.rejects(openImageSource(path()), { kind, message: message(path()) });
    });
  }

  it('refuses a raw image shorter than the ranges asked for', async () => {
    const short = join(dir, 'short.img');
    await writeFile(short, image.data.subarray(0, 8 * MiB));
    const source = await openImageSource(short);
    await assert.rejects(collect(source, image.ranges), {
      kind: 'truncated-image',
      message: `cannot flash ${short}: it is ${8 * MiB} bytes but ${16 * MiB} are needed; the file is incomplete, download or copy it again`,
    });
  });

  it('finds the bmap beside the image, or beside its uncompressed name', async () => {
    assert.deepEqual(bmapCandidates('/i/pi.img.xz'), ['/i/pi.img.xz.bmap', '/i/pi.img.bmap']);
    assert.deepEqual(bmapCandidates('/i/pi.img'), ['/i/pi.img.bmap']);
    const sub = await mkdtemp(join(dir, 'beside-'));
    const img = await writeImage(join(sub, 'pc.img'), 16 * MiB, typicalRanges(16 * MiB));
    assert.equal(await loadBmap(join(sub, 'pc.img.xz')), null, 'no bmap yet');
    await writeFile(join(sub, 'pc.img.bmap'), bmapFor(img));
    assert.equal((await loadBmap(join(sub, 'pc.img.xz')))?.path, join(sub, 'pc.img.bmap'));
    assert.equal((await loadBmap(img.path))?.bmap.imageSize, 16 * MiB);
  });

  it('refuses a named bmap that does not exist', async () => {
    const path = join(dir, 'nope.bmap');
    await assert.rejects(loadBmap(image.path, path), { kind: 'bmap-not-found', message: `cannot read bmap ${path}: no such file; check the path, or leave the bmap out to write the whole image` });
  });

  it('keeps a file whose size changes under it from passing as complete', async () => {
    const copy = join(dir, 'shrinking.img');
    await writeFile(copy, image.data);
    const source = await openImageSource(copy);
    await truncate(copy, 4 * MiB);
    await assert.rejects(collect(source, null), { kind: 'truncated-image', message: `cannot flash ${copy}: it ended at byte ${4 * MiB} while being read; it was truncated or replaced during the flash` });
  });
});
