/**
 * A drive being flashed, as the writer and the verifier see it. Block devices
 * implement it (block-device.ts); tests give targets that fail on cue.
 */
export interface FlashTarget {
  readonly path: string;
  /** Size of the drive in bytes. */
  readonly size: number;
  /** Writes `data` (a 4096-aligned buffer) at `offset`; unaligned edges are the target's business. */
  write(data: Buffer, offset: number): Promise<void>;
  /** Reads `buffer.length` bytes (a multiple of 4096, aligned) at `offset` from the drive itself, never from a cache. */
  read(buffer: Buffer, offset: number): Promise<number>;
  /** Makes everything written so far durable on the drive. */
  flush(): Promise<void>;
  close(): Promise<void>;
}
