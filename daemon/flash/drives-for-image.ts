import type { Caller } from '../caller/caller.js';
import { requireDiskImage } from './check-image.js';
import { type Drive, listDrives } from './drives.js';
import { loadBmap } from './find-bmap.js';
import { openImageSource } from './open-source.js';

/** What `GET /v1/drives` asks for: which drives, and the image they would be flashed with, if any. */
export interface DrivesQuery {
  includeLoop: boolean;
  image?: string;
  bmap?: string;
  /** List drives for an image that is no disk image (otherwise refused). */
  force: boolean;
  allowSystemDrives?: string[];
}

/**
 * The drives listing's view of an image, read with the caller's rights: its
 * size for verdicts (from its bmap, the file, or the compressed stream's
 * header; null when only reading it all would tell, as for gzip) and the open
 * file, so finding the drive that holds it looks at what the caller may read.
 * Unless forced, an image that is no disk image is refused here already, so
 * a client learns it before it asks anyone to confirm erasing a drive.
 */
async function withImage<T>(image: string, bmap: string | undefined, force: boolean, caller: Caller, use: (facts: { path: string; size: number | null }) => Promise<T>): Promise<T> {
  const opened = await openImageSource(image, undefined, caller);
  try {
    const loaded = await loadBmap(image, bmap, caller);
    const size = loaded ? loaded.bmap.imageSize : opened.source.size;
    if (!force) await requireDiskImage(opened.source, size);
    return await use({ path: opened.file, size });
  } finally {
    opened.close();
  }
}

/** Candidate drives with their verdicts, against the image when one is named (read with the caller's rights). */
export function listDrivesFor(query: DrivesQuery, caller: Caller): Promise<Drive[]> {
  const { includeLoop, image, bmap, force, allowSystemDrives } = query;
  const list = (facts?: { path: string; size: number | null }) =>
    listDrives({ includeLoop, ...(facts ? { image: facts } : {}), ...(allowSystemDrives ? { allowSystemDrives } : {}) });
  return image ? withImage(image, bmap, force, caller, list) : list();
}
