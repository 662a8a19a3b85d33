import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isCoreforgeError } from '../../../../daemon/errors.js';
import { placeImages, type RawStructure } from '../../../../daemon/image/gadget/raw-content.js';

const structure = (content: RawStructure['content']): RawStructure => ({
  yamlIndex: 1,
  name: 'BIOS Boot',
  offset: 1048576,
  size: 4096,
  content,
});

describe('placeImages', () => {
  test('places images one after the other, or at their offset, at absolute volume offsets', () => {
    const placed = placeImages(
      structure([
        { kind: 'image', image: 'a.img' },
        { kind: 'image', image: 'b.img', size: 1024 },
        { kind: 'image', image: 'c.img', offset: 3072 },
      ]),
      new Map([
        ['a.img', 100],
        ['b.img', 1000],
        ['c.img', 1024],
      ]),
    );
    assert.deepEqual(
      placed.map((p) => [p.image, p.offset, p.size, p.fileSize]),
      [
        ['a.img', 1048576, 100, 100],
        ['b.img', 1048676, 1024, 1000],
        ['c.img', 1051648, 1024, 1024],
      ],
    );
  });

  const bad: [string, RawStructure['content'], [string, number][], string][] = [
    [
      'an image larger than its declared size',
      [{ kind: 'image', image: 'a.img', size: 10 }],
      [['a.img', 11]],
      'cannot lay out structure #1 ("BIOS Boot"): content "a.img" size 11 is larger than declared 10; raise the content "size" or shrink the image',
    ],
    [
      'an image that does not fit',
      [{ kind: 'image', image: 'a.img', offset: 4000 }],
      [['a.img', 100]],
      'cannot lay out structure #1 ("BIOS Boot"): content "a.img" does not fit in the structure; it ends at 4100 but the structure has 4096 bytes',
    ],
    [
      'overlapping images',
      [
        { kind: 'image', image: 'a.img', offset: 0 },
        { kind: 'image', image: 'b.img', offset: 10 },
      ],
      [
        ['a.img', 100],
        ['b.img', 100],
      ],
      'cannot lay out structure #1 ("BIOS Boot"): content "b.img" overlaps with preceding image "a.img"; give it an "offset" after 100',
    ],
  ];
  for (const [name, content, sizes, message] of bad) {
    test(`rejects ${name}`, () => {
      assert.throws(
        () => placeImages(structure(content), new Map(sizes)),
        (err: unknown) => isCoreforgeError(err) && err.kind === 'invalid-gadget-content' && err.message === message,
      );
    });
  }
});
