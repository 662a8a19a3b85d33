import { open } from 'node:fs/promises';
import { flashError, throwIfAborted } from './errors.js';
import type { ByteRange } from './ranges.js';
import type { Chunk, ImageSource } from './source.js';

/** A raw image file: reads only the ranges asked for, with positioned reads, so holes cost nothing. Messages name `path`; bytes come from `readPath`. */
export function fileSource(path: string, fileSize: number, readPath = path): ImageSource {
  return {
    path,
    compression: 'none',
    fileSize,
    size: fileSize,
    async *read(ranges: readonly ByteRange[] | null, chunkSize: number, signal?: AbortSignal): AsyncGenerator<Chunk> {
      const plan = ranges ?? [{ start: 0, end: fileSize }];
      const last = plan[plan.length - 1];
      if (last && last.end > fileSize) {
        throw flashError('truncated-image', `cannot flash ${path}: it is ${fileSize} bytes but ${last.end} are needed; the file is incomplete, download or copy it again`, { image: path, size: fileSize, needed: last.end });
      }
      const handle = await open(readPath, 'r');
      try {
        const pieces = (function* () {
          for (const r of plan) for (let at = r.start; at < r.end; at += chunkSize) yield { offset: at, length: Math.min(chunkSize, r.end - at) };
        })();
        // Two buffers in turn: one being consumed, one being filled (see ImageSource.read on reuse).
        const buffers = [Buffer.allocUnsafeSlow(chunkSize), Buffer.allocUnsafeSlow(chunkSize)];
        let turn = 0;
        const readPiece = async (p: { offset: number; length: number }) => {
          const data = buffers[turn++ % 2]!.subarray(0, p.length);
          const { bytesRead } = await handle.read(data, 0, p.length, p.offset);
          if (bytesRead !== p.length) {
            throw flashError('truncated-image', `cannot flash ${path}: it ended at byte ${p.offset + bytesRead} while being read; it was truncated or replaced during the flash`, { image: path });
          }
          return { offset: p.offset, data, consumed: p.offset + p.length };
        };
        // One read ahead, so reading the next piece overlaps with writing this one.
        let next = pieces.next();
        let pending = next.done ? null : readPiece(next.value);
        pending?.catch(() => {});
        while (pending) {
          const chunk = await pending;
          throwIfAborted(signal, `reading ${path}`);
          next = pieces.next();
          pending = next.done ? null : readPiece(next.value);
          pending?.catch(() => {});
          yield chunk;
        }
      } finally {
        await handle.close();
      }
    },
  };
}
