import type { Compression } from './compression.js';
import type { ByteRange } from './ranges.js';

/** A piece of the image: `data` belongs at byte `offset` of the image (and of the drive). */
export interface Chunk {
  offset: number;
  data: Buffer;
  /** Bytes of the image file consumed so far (compressed bytes for a compressed image). */
  consumed: number;
}

/**
 * An image to flash, whatever its format: raw files and decompressing streams
 * share this shape, so the writer never branches on format (etcher-sdk's
 * SourceDestination, reduced to what flashing needs).
 */
export interface ImageSource {
  readonly path: string;
  readonly compression: Compression;
  /** Size of the image file on disk. */
  readonly fileSize: number;
  /** Size of the (decompressed) image when known without reading it all; null otherwise. */
  readonly size: number | null;
  /**
   * Yields the image's bytes within `ranges` (all of it when null), in order,
   * at most `chunkSize` bytes per chunk, never crossing a range boundary.
   * Throws 'truncated-image' if the image ends before a range does. A chunk's
   * bytes may be reused once the next chunk is asked for: copy what you keep.
   */
  read(ranges: readonly ByteRange[] | null, chunkSize: number, signal?: AbortSignal): AsyncGenerator<Chunk>;
}
