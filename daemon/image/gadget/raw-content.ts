import { imageError } from '../errors.js';
import type { StructureContent } from './types.js';
import { structureRef } from './volume-rules.js';

/**
 * Where the raw images of a structure without a filesystem go (snapd
 * layout.go layOutStructureContent): each image at its `offset` or right
 * after the previous one, inside the structure, without overlaps.
 */

export interface PlacedImage {
  /** Index of the entry in the structure's `content` list. */
  index: number;
  image: string;
  /** Absolute offset in the volume. */
  offset: number;
  /** Room the image takes: its declared `size`, or the file's size. */
  size: number;
  /** Bytes of the image file itself. */
  fileSize: number;
}

export interface RawStructure {
  yamlIndex: number;
  name: string;
  /** Absolute offset of the structure (0 to get offsets relative to the structure). */
  offset: number;
  size: number;
  content: readonly StructureContent[];
}

/** Places a bare structure's images given each image file's size; throws invalid-gadget-content when they do not fit. */
export function placeImages(structure: RawStructure, fileSizes: ReadonlyMap<string, number>): PlacedImage[] {
  const where = structureRef(structure.yamlIndex, structure.name);
  const fail = (problem: string): never => {
    throw imageError('invalid-gadget-content', `cannot lay out structure ${where}: ${problem}`);
  };
  const placed: PlacedImage[] = [];
  let previousEnd = 0;
  for (const [index, c] of structure.content.entries()) {
    if (c.kind !== 'image') continue;
    const fileSize = fileSizes.get(c.image);
    if (fileSize === undefined) return fail(`content "${c.image}": size of the image file is unknown`);
    const start = c.offset ?? previousEnd;
    if (c.size !== undefined && c.size < fileSize) {
      fail(`content "${c.image}" size ${fileSize} is larger than declared ${c.size}; raise the content "size" or shrink the image`);
    }
    const size = c.size ?? fileSize;
    previousEnd = start + size;
    if (previousEnd > structure.size) {
      fail(`content "${c.image}" does not fit in the structure; it ends at ${previousEnd} but the structure has ${structure.size} bytes`);
    }
    placed.push({ index, image: c.image, offset: structure.offset + start, size, fileSize });
  }
  placed.sort((a, b) => a.offset - b.offset);
  for (let i = 1; i < placed.length; i++) {
    const prev = placed[i - 1]!;
    if (placed[i]!.offset < prev.offset + prev.size) {
      fail(`content "${placed[i]!.image}" overlaps with preceding image "${prev.image}"; give it an "offset" after ${prev.offset - structure.offset + prev.size}`);
    }
  }
  return placed;
}
