// Edge module: reads the start of an image through its source and refuses one
// that is no disk image (see image-kind.ts), unless the caller insists.
import { flashError } from './errors.js';
import { imageHeadBytes, recogniseImage } from './image-kind.js';
import type { ImageSource } from './source.js';

/** The image's first bytes (decompressed), at most `imageHeadBytes`; a compressed image is decoded only that far. */
export async function readImageHead(source: ImageSource, signal?: AbortSignal): Promise<Buffer> {
  const parts: Buffer[] = [];
  let have = 0;
  for await (const chunk of source.read(null, imageHeadBytes, signal)) {
    parts.push(Buffer.from(chunk.data)); // a copy: the source reuses its buffers
    have += chunk.data.length;
    if (have >= imageHeadBytes) break;
  }
  return Buffer.concat(parts).subarray(0, imageHeadBytes);
}

/**
 * Throws 'unrecognized-image', naming what the image starts with, when it has
 * no partition table and no known filesystem at its start (a model, a text
 * file, a qcow2 picked by mistake); returns what it found otherwise.
 */
export async function requireDiskImage(source: ImageSource, imageSize: number | null, signal?: AbortSignal): Promise<string> {
  const kind = recogniseImage(await readImageHead(source, signal), imageSize);
  if (kind.flashable) return kind.what;
  throw flashError(
    'unrecognized-image',
    `cannot flash ${source.path}: it has no partition table (MBR or GPT) and no known filesystem at its start: ${kind.found}; flash the .img a build made ("coreforge build"), or pass --force to write it as it is`,
    { image: source.path, found: kind.found },
  );
}
