import { open } from 'node:fs/promises';
import { detectCompression } from './compression.js';
import { openDecoder, recordedSize } from './decompress.js';
import { flashError } from './errors.js';
import type { Exec } from './exec.js';
import { runProgram } from './exec.js';
import { fileSource } from './file-source.js';
import type { ImageSource } from './source.js';
import { streamSource } from './stream-source.js';

/** Maps an error from opening the image to the flash error a user can act on. */
export function imageOpenError(path: string, err: unknown): Error {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') {
    return flashError('image-not-found', `cannot flash ${path}: no such file; check the path, or build the image first with "coreforge build"`, { image: path });
  }
  if (code === 'EACCES' || code === 'EPERM') {
    return flashError('permission-denied', `cannot flash ${path}: the daemon may not read it; make it readable by the coreforge group or copy it under the daemon's state directory`, { image: path });
  }
  return err instanceof Error ? err : new Error(String(err));
}

/** Opens an image file as a source: raw, gzip, xz or zstd, chosen by its first bytes and its name. */
export async function openImageSource(path: string, exec: Exec = runProgram): Promise<ImageSource> {
  let head: Buffer;
  let fileSize: number;
  try {
    const handle = await open(path, 'r');
    try {
      const st = await handle.stat();
      if (!st.isFile()) {
        throw flashError('image-not-found', `cannot flash ${path}: it is not a regular file; name the .img file (or its .gz, .xz, .zst)`, { image: path });
      }
      fileSize = st.size;
      head = Buffer.alloc(Math.min(16, fileSize));
      await handle.read(head, 0, head.length, 0);
    } finally {
      await handle.close();
    }
  } catch (err) {
    throw imageOpenError(path, err);
  }
  const compression = detectCompression(path, head);
  if (compression === 'none') return fileSource(path, fileSize);
  const size = await recordedSize(path, compression, exec);
  return streamSource(path, compression, fileSize, size, () => openDecoder(path, compression));
}
