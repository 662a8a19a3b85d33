import type { FlashProgress } from './progress.js';
import type { ImageSource } from './source.js';

/**
 * Decompresses an image whose size is not recorded (gzip, streamed zstd, a
 * truncated xz) to count its bytes, so a too-small drive or a truncated file is
 * refused before anything is written. Reported as the 'decompressing' phase.
 */
export async function measureImageSize(source: ImageSource, onProgress?: (p: FlashProgress) => void, signal?: AbortSignal): Promise<number> {
  let size = 0;
  for await (const chunk of source.read(null, 4 << 20, signal)) {
    size = chunk.offset + chunk.data.length;
    onProgress?.({ phase: 'decompressing', bytes: size, total: null, ...(source.fileSize > 0 ? { fraction: Math.min(1, chunk.consumed / source.fileSize) } : {}) });
  }
  return size;
}
