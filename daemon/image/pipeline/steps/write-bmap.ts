import { join } from 'node:path';
import { bmapForImage } from '../../bmap-file.js';
import { volumeImageName } from '../params.js';
import { outputFile, syncFile, writeOutputText } from './outputs.js';
import { need, type BuildStep } from './step.js';

/** Maps each image's data in a bmap file, while the image is flushed to disk. */
export const writeBmap: BuildStep = {
  name: 'write-bmap',
  async run(ctx) {
    for (const v of need(ctx.state.volumes, 'volume images')) {
      const name = volumeImageName(ctx.params, v.name);
      ctx.env.progress(`map ${name}`, 0, 0);
      const image = outputFile(ctx, name);
      try {
        // The image is synced to disk while its bmap ranges are hashed (on worker threads). Its own
        // SHA-256 (mostly zeros to hash) is left to the daemon, after the build: see image-digests.ts.
        const hashed = bmapForImage(image.path, v.written, 4096, ctx.env.signal);
        hashed.catch(() => {});
        syncFile(image, `write image ${join(ctx.params.outputDir, image.name)}`);
        await writeOutputText(ctx, `${name}.bmap`, await hashed);
      } finally {
        image.close();
      }
    }
  },
};
