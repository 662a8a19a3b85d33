import { open } from 'node:fs/promises';
import { daemonCaller, type Caller } from '../caller/caller.js';
import { openInput, type InputFile } from '../caller/files.js';
import { isCoreforgeError } from '../errors.js';
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
  const code = isCoreforgeError(err) ? err.kind : (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'file-not-found') {
    return flashError('image-not-found', `cannot flash ${path}: no such file; check the path, or build the image first with "coreforge build"`, { image: path });
  }
  if (code === 'not-a-regular-file') {
    return flashError('image-not-found', `cannot flash ${path}: it is not a regular file; name the .img file (or its .gz, .xz, .zst)`, { image: path });
  }
  if (code === 'EACCES' || code === 'EPERM' || code === 'permission-denied') {
    return flashError('permission-denied', `cannot flash ${path}: you may not read it; coreforged reads the image with your rights, so make it readable by you or copy it somewhere you can read`, { image: path });
  }
  return err instanceof Error ? err : new Error(String(err));
}

/** An image source and the file it reads, open until the flash is over. */
export interface OpenedImage {
  source: ImageSource;
  /** The open file itself (see daemon/caller/files.ts): what the daemon stats, whatever happens to its name. */
  file: string;
  close(): void;
}

/**
 * Opens an image file as a source: raw, gzip, xz or zstd, chosen by its first
 * bytes and its name. The file is opened with `caller`'s rights (regular
 * files only) and read through that open file until closed.
 */
export async function openImageSource(path: string, exec: Exec = runProgram, caller: Caller = daemonCaller): Promise<OpenedImage> {
  let input: InputFile;
  try {
    input = openInput(caller, path, 'image');
  } catch (err) {
    throw imageOpenError(path, err);
  }
  try {
    const fileSize = input.size;
    const head = Buffer.alloc(Math.min(16, fileSize));
    const handle = await open(input.path, 'r');
    try {
      await handle.read(head, 0, head.length, 0);
    } finally {
      await handle.close();
    }
    const compression = detectCompression(path, head);
    const source =
      compression === 'none'
        ? fileSource(path, fileSize, input.path)
        : streamSource(path, compression, fileSize, await recordedSize(input.path, compression, exec), () => openDecoder(input.path, compression, path));
    return { source, file: input.path, close: () => input.close() };
  } catch (err) {
    input.close();
    throw err;
  }
}
