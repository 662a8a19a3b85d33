import { type FlashProgress, progressMeter } from './progress.js';
import type { ImageSource } from './source.js';

/**
 * Decompresses an image whose size is not recorded (gzip, streamed zstd, a
 * truncated xz) to count its bytes, so a too-small drive or a truncated file is
 * refused before anything is written. Reported as the 'decompressing' phase.
 */
export async function measureImageSize(source: ImageSource, onProgress?: (p: FlashProgress) => void, signal?: AbortSignal, now?: () => number): Promise<number> {
  const report = progressMeter('decompressing', null, now);
  let size = 0;
  for await (const chunk of source.read(null, 4 << 20, signal)) {
    size = chunk.offset + chunk.data.length;
    onProgress?.(report(size, source.fileSize > 0 ? Math.min(1, chunk.consumed / source.fileSize) : undefined));
  }
  return size;
}
