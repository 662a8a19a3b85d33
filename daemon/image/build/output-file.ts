import { rename, unlink, writeFile } from 'node:fs/promises';
import { writeError } from './volume.js';

/** Edge module: writes a small output file (manifest, bmap, build.json) under a temporary name and renames it into place, so it is never seen half-written. */
export async function writeOutput(path: string, data: string): Promise<void> {
  const tmp = `${path}.partial`;
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw writeError(err, `write ${path}`);
  }
}
