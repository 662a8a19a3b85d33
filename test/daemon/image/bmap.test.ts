import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, ftruncateSync, mkdtempSync, openSync, readFileSync, rmSync, statfsSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { isCoreforgeError } from '../../../daemon/errors.js';
import { readBmap } from '../../../daemon/flash/bmap.js';
import { generateBmap, humanSize } from '../../../daemon/image/bmap.js';
import { bmapForImage, splitBlockRanges } from '../../../daemon/image/bmap-file.js';
import type { ByteRange } from '../../../daemon/flash/ranges.js';

const dir = mkdtempSync(join(tmpdir(), 'coreforge-bmap-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const hasBmaptool = spawnSync('bmaptool', ['--version']).status === 0;
const skipBmaptool = hasBmaptool ? false : 'bmaptool (bmap-tools) is not installed';
const blockSize = statfsSync(dir).bsize;

/** The Python interpreter bmaptool runs with (its shebang), which can import bmaptools. */
function bmaptoolPython(): string {
  const where = spawnSync('sh', ['-c', 'command -v bmaptool'], { encoding: 'utf8' }).stdout.trim();
  const shebang = readFileSync(where, 'utf8').split('\n')[0]!;
  return shebang.replace(/^#!\s*/, '').split(/\s+/)[0]!;
}

/** Writes a sparse image with pseudo-random data in the given byte ranges. */
function sparseImage(name: string, size: number, ranges: ByteRange[]): string {
  const path = join(dir, name);
  const fd = openSync(path, 'w');
  ftruncateSync(fd, size);
  for (const [i, r] of ranges.entries()) {
    const data = Buffer.alloc(r.end - r.start);
    for (let j = 0; j < data.length; j++) data[j] = (j * 31 + i * 7 + 1) & 0xff || 1;
    writeSync(fd, data, 0, data.length, r.start);
  }
  closeSync(fd);
  return path;
}

const MiB = 1024 * 1024;
const written: ByteRange[] = [
  { start: 440, end: 440 + 72 },
  { start: 512, end: 512 + 33 * 512 },
  { start: 1 * MiB, end: 1 * MiB + 30000 },
  { start: 2 * MiB, end: 2 * MiB + 3 * MiB },
  { start: 9 * MiB, end: 9 * MiB + 10 },
];

function bmaptool(args: string[]): { status: number; output: string } {
  const r = spawnSync('bmaptool', args, { encoding: 'utf8' });
  return { status: r.status ?? -1, output: `${r.stdout}${r.stderr}` };
}

describe('bmap generation', () => {
  test('produces exactly the bytes `bmaptool create` writes for the same sparse image', { skip: skipBmaptool }, async () => {
    const image = sparseImage('exact.img', 10 * MiB + 1000, [...written, { start: 10 * MiB + 500, end: 10 * MiB + 500 + 500 }]);
    const ours = await bmapForImage(image, [...written, { start: 10 * MiB + 500, end: 10 * MiB + 500 + 500 }], blockSize);
    const theirsPath = join(dir, 'exact.theirs.bmap');
    const r = bmaptool(['create', '-o', theirsPath, image]);
    assert.equal(r.status, 0, r.output);
    assert.equal(ours, readFileSync(theirsPath, 'utf8'));
  });

  test('is accepted by `bmaptool copy`, which checks every checksum and reproduces the image', { skip: skipBmaptool }, async () => {
    const image = sparseImage('copy.img', 12 * MiB, written);
    const bmapPath = join(dir, 'copy.img.bmap');
    writeFileSync(bmapPath, await bmapForImage(image, written, 4096));
    const out = join(dir, 'copy.out');
    const r = bmaptool(['copy', '--bmap', bmapPath, image, out]);
    assert.equal(r.status, 0, r.output);
    assert.ok(readFileSync(out).equals(readFileSync(image)));
  });

  test('splits a mapped run longer than 64 MiB into ranges hashed in parallel, which `bmaptool copy` accepts', { skip: skipBmaptool }, async () => {
    const long: ByteRange[] = [{ start: 0, end: 4096 }, { start: 1 * MiB, end: 1 * MiB + 70 * MiB }];
    const image = sparseImage('long.img', 80 * MiB, long);
    const bmapPath = join(dir, 'long.img.bmap');
    writeFileSync(bmapPath, await bmapForImage(image, long, 4096));
    const parsed = readBmap(readFileSync(bmapPath));
    assert.deepEqual(parsed.ranges.map((r) => [r.start, r.end]), [[0, 4096], [1 * MiB, 65 * MiB], [65 * MiB, 71 * MiB]]);
    const out = join(dir, 'long.out');
    const r = bmaptool(['copy', '--bmap', bmapPath, image, out]);
    assert.equal(r.status, 0, r.output);
    assert.ok(readFileSync(out).equals(readFileSync(image)));
    rmSync(out);
  });

  test('splitBlockRanges cuts only the ranges longer than the limit', () => {
    assert.deepEqual(splitBlockRanges([{ first: 0, last: 0 }, { first: 5, last: 14 }], 4), [
      { first: 0, last: 0 }, { first: 5, last: 8 }, { first: 9, last: 12 }, { first: 13, last: 14 },
    ]);
  });

  test('is rejected by `bmaptool copy` when a range checksum is wrong', { skip: skipBmaptool }, async () => {
    const image = sparseImage('bad.img', 4 * MiB, written.slice(0, 3));
    const bmapText = generateBmap({
      imageSize: 4 * MiB,
      blockSize: 4096,
      ranges: [{ first: 0, last: 4, sha256: '0'.repeat(64) }],
    });
    const bmapPath = join(dir, 'bad.img.bmap');
    writeFileSync(bmapPath, bmapText);
    const r = bmaptool(['copy', '--bmap', bmapPath, image, join(dir, 'bad.out')]);
    assert.notEqual(r.status, 0);
    assert.match(r.output, /checksum mismatch/);
  });

  test('formats sizes like bmaptools human_size, including Python rounding of ties', { skip: skipBmaptool }, () => {
    const sizes = [1, 2, 511, 512, 1023, 1280, 1792, 2304, 3 * MiB + 256 * 1024, 10 * MiB, 5 * 1024 * MiB + 1, 2 ** 42, 2 ** 52];
    const py = spawnSync(bmaptoolPython(), ['-c', `from bmaptools.BmapHelpers import human_size\nfor s in ${JSON.stringify(sizes)}: print(human_size(s))`], {
      encoding: 'utf8',
    });
    assert.equal(py.status, 0, py.stderr);
    assert.deepEqual(sizes.map(humanSize), py.stdout.trim().split('\n'));
  });

  test('writes single-block ranges as one number and longer ones as FIRST-LAST', () => {
    const sha = createHash('sha256').update('x').digest('hex');
    const text = generateBmap({ imageSize: 40960, blockSize: 4096, ranges: [{ first: 0, last: 0, sha256: sha }, { first: 3, last: 9, sha256: sha }] });
    assert.match(text, new RegExp(`<Range chksum="${sha}"> 0 </Range>\\n        <Range chksum="${sha}"> 3-9 </Range>`));
    assert.match(text, /<MappedBlocksCount> 8  <\/MappedBlocksCount>/);
    assert.match(text, /<!-- Count of mapped blocks: 32\.0 KiB or 80\.0% {4}-->/);
  });

  const bad: [string, Parameters<typeof generateBmap>[0], string][] = [
    ['an empty image', { imageSize: 0, blockSize: 4096, ranges: [] }, 'cannot generate bmap for image size 0: the image must not be empty'],
    [
      'ranges out of order',
      { imageSize: 40960, blockSize: 4096, ranges: [{ first: 3, last: 4, sha256: 'a'.repeat(64) }, { first: 1, last: 1, sha256: 'a'.repeat(64) }] },
      'cannot generate bmap: range 1-1 is not sorted, overlaps the previous one, or ends past block 9; normalize the ranges with toBlockRanges',
    ],
    [
      'a range past the end',
      { imageSize: 40960, blockSize: 4096, ranges: [{ first: 9, last: 10, sha256: 'a'.repeat(64) }] },
      'cannot generate bmap: range 9-10 is not sorted, overlaps the previous one, or ends past block 9; normalize the ranges with toBlockRanges',
    ],
    [
      'a bad checksum',
      { imageSize: 40960, blockSize: 4096, ranges: [{ first: 0, last: 0, sha256: 'ABC' }] },
      'cannot generate bmap: range 0-0 has checksum "ABC"; give a lower-case hex SHA-256',
    ],
  ];
  for (const [name, input, message] of bad) {
    test(`rejects ${name}`, () => {
      assert.throws(
        () => generateBmap(input),
        (err: unknown) => isCoreforgeError(err) && err.kind === 'invalid-bmap' && err.message === message,
      );
    });
  }
});

describe('bmap read back by the flasher', () => {
  test('the flasher reads what the builder writes: sizes and every range with its checksum', () => {
    const sha = createHash('sha256').update('data').digest('hex');
    const text = generateBmap({ imageSize: 10000, blockSize: 4096, ranges: [{ first: 0, last: 1, sha256: sha }, { first: 2, last: 2, sha256: sha }] });
    const bmap = readBmap(Buffer.from(text), 'generated.bmap');
    assert.equal(bmap.imageSize, 10000);
    assert.equal(bmap.blockSize, 4096);
    assert.deepEqual(
      bmap.ranges.map((r) => [r.start, r.end, r.checksum]),
      [
        [0, 8192, sha],
        [8192, 10000, sha],
      ],
    );
  });
});
