import type { FileHandle } from 'node:fs/promises';

/** Bytes per buffer. */
const bufferBytes = 1 << 20;

/**
 * Writes a download into a file from `position` on, behind the network: each
 * piece is copied into one of a few reused 1 MiB buffers, and the buffers
 * filled while a write runs go out together in the next. One write at a time,
 * in order, so that however the process ends the file holds a prefix of the
 * body, which a resumed download hashes and continues.
 */
export class FileAppender {
  private free: Buffer[] = [];
  private filled: Buffer[] = [];
  private current: Buffer | undefined;
  private used = 0;
  private writing: Promise<void> | undefined;
  private failure: unknown;
  private waiters: (() => void)[] = [];

  constructor(
    private readonly file: FileHandle,
    private position: number,
    /** bytes waiting to be written before append() asks the caller to wait */
    private readonly maxQueued = 8 * bufferBytes,
  ) {}

  /** Copies `piece` (its memory may be reused at once); a promise when the caller should wait before the next piece. */
  append(piece: Buffer): Promise<void> | undefined {
    if (this.failure) throw this.failure;
    for (let at = 0; at < piece.length; ) {
      if (!this.current) {
        this.current = this.free.pop() ?? Buffer.allocUnsafeSlow(bufferBytes);
        this.used = 0;
      }
      const n = piece.copy(this.current, this.used, at);
      at += n;
      this.used += n;
      if (this.used === this.current.length) {
        this.filled.push(this.current);
        this.current = undefined;
      }
    }
    this.writeNext();
    if (this.filled.length * bufferBytes < this.maxQueued) return undefined;
    return new Promise<void>((resolve) => this.waiters.push(resolve)).then(() => {
      if (this.failure) throw this.failure;
    });
  }

  /** Writes what is left and waits for every write; throws the first write error. */
  async close(): Promise<void> {
    if (this.current && this.used > 0) this.filled.push(this.current.subarray(0, this.used));
    this.current = undefined;
    for (;;) {
      this.writeNext();
      if (!this.writing) break;
      await this.writing;
    }
    if (this.failure) throw this.failure;
  }

  private writeNext(): void {
    if (this.writing || this.filled.length === 0 || this.failure) return;
    const buffers = this.filled;
    this.filled = [];
    this.writing = this.writeAll(buffers).then(
      () => {
        for (const b of buffers) if (b.length === bufferBytes) this.free.push(b);
        this.writing = undefined;
        this.wake();
        this.writeNext();
      },
      (err: unknown) => {
        this.failure = err;
        this.writing = undefined;
        this.wake();
      },
    );
  }

  private async writeAll(buffers: Buffer[]): Promise<void> {
    let rest = [...buffers];
    while (rest.length > 0) {
      const { bytesWritten } = await this.file.writev(rest, this.position);
      if (bytesWritten === 0) throw Object.assign(new Error('the file took no more bytes'), { code: 'ENOSPC' });
      this.position += bytesWritten;
      // a short write (rare on a regular file) goes on where it stopped
      let skip = bytesWritten;
      while (rest.length > 0 && skip >= rest[0]!.length) skip -= rest.shift()!.length;
      if (rest.length > 0 && skip > 0) rest = [rest[0]!.subarray(skip), ...rest.slice(1)];
    }
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
