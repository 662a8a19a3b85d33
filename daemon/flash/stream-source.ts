import type { Compression } from './compression.js';
import type { Decoder } from './decompress.js';
import { flashError, throwIfAborted } from './errors.js';
import type { ByteRange } from './ranges.js';
import type { Chunk, ImageSource } from './source.js';

/**
 * A compressed image: decompresses from the start on every read, keeps only the
 * bytes inside the ranges asked for, and stops the decoder as soon as the last
 * range is complete. A format is added by giving another decoder.
 */
export function streamSource(
  path: string,
  compression: Exclude<Compression, 'none'>,
  fileSize: number,
  size: number | null,
  openDecoder: () => Decoder,
): ImageSource {
  return {
    path,
    compression,
    fileSize,
    size,
    async *read(ranges: readonly ByteRange[] | null, chunkSize: number, signal?: AbortSignal): AsyncGenerator<Chunk> {
      const plan = ranges ?? (size !== null ? [{ start: 0, end: size }] : null);
      const decoder = openDecoder();
      let position = 0;
      let index = 0;
      let complete = false;
      try {
        outer: for await (const buf of decoder.output) {
          throwIfAborted(signal, `reading ${path}`);
          const bufStart = position;
          position += buf.length;
          if (!plan) {
            for (let at = 0; at < buf.length; at += chunkSize) {
              yield { offset: bufStart + at, data: buf.subarray(at, Math.min(buf.length, at + chunkSize)), consumed: decoder.consumed() };
            }
            continue;
          }
          while (index < plan.length && plan[index]!.start < position) {
            const r = plan[index]!;
            const from = Math.max(r.start, bufStart);
            const to = Math.min(r.end, position);
            for (let at = from; at < to; at += chunkSize) {
              const end = Math.min(to, at + chunkSize);
              yield { offset: at, data: buf.subarray(at - bufStart, end - bufStart), consumed: decoder.consumed() };
            }
            if (r.end > position) break;
            index++;
          }
          // Past the last range: stop the decoder, unless the plan reaches the image's end, where the
          // decoder is about to check its CRC and a damaged image must not pass as flashed.
          if (index === plan.length && (size === null || plan[plan.length - 1]!.end < size)) {
            complete = true;
            break outer;
          }
        }
        if (!complete) {
          await decoder.finished();
          const needed = plan ? plan[plan.length - 1]?.end ?? 0 : 0;
          if (position < needed) {
            throw flashError('truncated-image', `cannot flash ${path}: it decompresses to ${position} bytes but ${needed} are needed; the file is incomplete, download or copy it again`, { image: path, size: position, needed });
          }
        }
      } finally {
        decoder.cancel();
      }
    },
  };
}
