// A FlashTarget in memory that records every operation and fails on cue.
import { flashError } from '../../../daemon/flash/errors.js';
import type { FlashTarget } from '../../../daemon/flash/target.js';

export type Op = { op: 'write'; start: number; end: number } | { op: 'flush' } | { op: 'close' };

export class MemoryTarget implements FlashTarget {
  readonly bytes: Buffer;
  readonly ops: Op[] = [];
  /** Fail the write that covers this offset (and the ones after it). */
  failAt: number | null = null;
  /** Called before each write: tests abort or detach from here. */
  beforeWrite: ((offset: number) => void) | null = null;

  constructor(readonly path: string, readonly size: number, fill = 0xaa) {
    this.bytes = Buffer.alloc(size, fill);
  }

  async write(data: Buffer, offset: number): Promise<void> {
    this.beforeWrite?.(offset);
    await new Promise((r) => setImmediate(r));
    if (this.failAt !== null && offset <= this.failAt && this.failAt < offset + data.length) {
      throw flashError('drive-removed', `cannot write ${this.path} at bytes ${offset}-${offset + data.length - 1}: the drive was removed; plug it in again and flash it again`, { range: { start: offset, end: offset + data.length } });
    }
    data.copy(this.bytes, offset);
    this.ops.push({ op: 'write', start: offset, end: offset + data.length });
  }

  async read(buffer: Buffer, offset: number): Promise<number> {
    await new Promise((r) => setImmediate(r));
    return this.bytes.copy(buffer, 0, offset, Math.min(this.size, offset + buffer.length));
  }

  async flush(): Promise<void> {
    this.ops.push({ op: 'flush' });
  }

  async close(): Promise<void> {
    this.ops.push({ op: 'close' });
  }

  /** The data writes, without the zeroing writes of the first and last MiB. */
  dataWrites(): { start: number; end: number }[] {
    const writes = this.ops.filter((o): o is Extract<Op, { op: 'write' }> => o.op === 'write');
    return writes.slice(2);
  }
}
