import { fstatSync } from 'node:fs';
import { join } from 'node:path';
import { generateBmap, type BmapInput } from '../../bmap.js';
import { hashBmapRanges } from '../../bmap-file.js';
import { volumeImageName } from '../params.js';
import { outputFile, syncFile, writeOutputText } from './outputs.js';
import { need, type BuildStep } from './step.js';

/** The block size of the build's bmaps: bmaptool's default. */
export const bmapBlockSize = 4096;

/** Ranges build-volumes hashed, if they are of this image as it is now (same size, same block size). */
function savedRanges(saved: BmapInput | undefined, fd: number): BmapInput | undefined {
  return saved && saved.blockSize === bmapBlockSize && saved.imageSize === fstatSync(fd).size ? saved : undefined;
}

/** Maps each image's data in a bmap file, once the image is on disk. */
export const writeBmap: BuildStep = {
  name: 'write-bmap',
  async run(ctx) {
    for (const v of need(ctx.state.volumes, 'volume images')) {
      const name = volumeImageName(ctx.params, v.name);
      ctx.env.progress(`map ${name}`, 0, 0);
      const image = outputFile(ctx, name);
      try {
        // build-volumes hashed the bmap ranges and wrote the image back: the sync has little left to do. A build
        // resumed from an older coreforged's state hashes them here, while the image is synced. The image's own
        // SHA-256 (mostly zeros to hash) is left to the daemon, after the build: see image-digests.ts.
        const saved = savedRanges(v.bmap, image.fd);
        const hashed = saved ? Promise.resolve(saved) : hashBmapRanges(image.path, v.written, bmapBlockSize, ctx.env.signal);
        hashed.catch(() => {});
        syncFile(image, `write image ${join(ctx.params.outputDir, image.name)}`);
        await writeOutputText(ctx, `${name}.bmap`, generateBmap(await hashed));
      } finally {
        image.close();
      }
    }
  },
};
