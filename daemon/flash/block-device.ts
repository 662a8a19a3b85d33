// Edge module: a block device opened exclusively with O_DIRECT, so writes and
// read-backs go to the drive rather than the page cache.
import { constants } from 'node:fs';
import { type FileHandle, open, stat } from 'node:fs/promises';
import { alignedBuffer } from './aligned.js';
import { flashError } from './errors.js';
import { type ByteRange, formatRange } from './ranges.js';
import { deviceNumber, sysBlockFacts } from './sysfs.js';
import type { FlashTarget } from './target.js';

/** What the caller listed and expects to find at the path (drive-changed otherwise). */
export interface ExpectedIdentity {
  size: number;
  /** "MAJ:MIN" as listed, when known. */
  dev?: string;
}

/** Maps an errno from a read or write of a drive to the flash error a user can act on. */
export async function driveIoError(path: string, dev: string | null, err: unknown, range: ByteRange, op: 'write' | 'read'): Promise<Error> {
  const code = (err as NodeJS.ErrnoException).code ?? '';
  const at = formatRange(range);
  const details = { drive: path, range: { start: range.start, end: range.end }, errno: code };
  const gone = code === 'ENODEV' || code === 'ENXIO' || (dev !== null && (await sysBlockFacts(dev)) === null);
  if (gone) return flashError('drive-removed', `cannot ${op} ${path} at ${at}: the drive was removed; plug it in again and flash it again`, details);
  if (code === 'ENOSPC') return flashError('no-space', `cannot ${op} ${path} at ${at}: no space left on the drive; use a bigger drive or a smaller image`, details);
  if (code === 'EROFS' || code === 'EPERM') return flashError('read-only-drive', `cannot ${op} ${path} at ${at}: the drive is read-only; slide its write-protect switch off and try again`, details);
  if (code === 'EACCES') return flashError('permission-denied', `cannot ${op} ${path} at ${at}: permission denied; run coreforged as root or give it access to the drive`, details);
  return flashError('io-error', `cannot ${op} ${path} at ${at}: i/o error (${code || String(err)}); the drive may be failing, try another drive or reader`, details);
}

function openError(path: string, err: unknown): Error {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENXIO' || code === 'ENODEV') return flashError('drive-not-found', `cannot open ${path}: no such drive; check "coreforge drives" for the right path`, { drive: path });
  if (code === 'EBUSY') return flashError('drive-busy', `cannot open ${path}: it is in use (mounted, or held by another program); unmount its partitions and close programs using it`, { drive: path });
  if (code === 'EROFS') return flashError('read-only-drive', `cannot open ${path}: the drive is read-only; slide its write-protect switch off and try again`, { drive: path });
  if (code === 'EACCES' || code === 'EPERM') return flashError('permission-denied', `cannot open ${path}: permission denied; run coreforged as root or give it access to the drive`, { drive: path });
  return err instanceof Error ? err : new Error(String(err));
}

/** Throws 'not-a-block-device' / 'drive-not-found' unless the path is a block device now. */
export async function requireBlockDevice(path: string): Promise<void> {
  let st;
  try {
    st = await stat(path);
  } catch (err) {
    throw openError(path, err);
  }
  if (!st.isBlockDevice()) {
    const what = st.isDirectory() ? 'a directory' : st.isFile() ? 'a regular file' : 'not a drive';
    throw flashError('not-a-block-device', `cannot flash ${path}: it is ${what}, not a block device; name a whole drive such as /dev/sdb or /dev/mmcblk0 (see "coreforge drives")`, { drive: path });
  }
}

class BlockDevice implements FlashTarget {
  private closed = false;
  constructor(
    readonly path: string,
    readonly size: number,
    private readonly dev: string,
    private readonly blockSize: number,
    private readonly handle: FileHandle,
  ) {}

  async write(data: Buffer, offset: number): Promise<void> {
    const range = { start: offset, end: offset + data.length };
    try {
      if (offset % this.blockSize === 0 && data.length % this.blockSize === 0) await this.writeAll(data, offset);
      else await this.writeUnaligned(data, offset);
    } catch (err) {
      throw await driveIoError(this.path, this.dev, err, range, 'write');
    }
  }

  /** Read-modify-write of the blocks around an unaligned piece (only the end of an odd-sized image). */
  private async writeUnaligned(data: Buffer, offset: number): Promise<void> {
    const start = Math.floor(offset / this.blockSize) * this.blockSize;
    const end = Math.ceil((offset + data.length) / this.blockSize) * this.blockSize;
    const scratch = alignedBuffer(end - start).subarray(0, end - start);
    await this.readAll(scratch, start);
    data.copy(scratch, offset - start);
    await this.writeAll(scratch, start);
  }

  private async writeAll(data: Buffer, offset: number): Promise<void> {
    for (let done = 0; done < data.length; ) {
      const { bytesWritten } = await this.handle.write(data, done, data.length - done, offset + done);
      if (bytesWritten === 0) throw Object.assign(new Error('short write'), { code: 'ENOSPC' });
      done += bytesWritten;
    }
  }

  private async readAll(buffer: Buffer, offset: number): Promise<number> {
    let done = 0;
    while (done < buffer.length) {
      const { bytesRead } = await this.handle.read(buffer, done, buffer.length - done, offset + done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return done;
  }

  async read(buffer: Buffer, offset: number): Promise<number> {
    try {
      return await this.readAll(buffer, offset);
    } catch (err) {
      throw await driveIoError(this.path, this.dev, err, { start: offset, end: offset + buffer.length }, 'read');
    }
  }

  async flush(): Promise<void> {
    try {
      await this.handle.datasync();
    } catch (err) {
      throw await driveIoError(this.path, this.dev, err, { start: 0, end: this.size }, 'write');
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.handle.close().catch(() => {});
  }
}

/**
 * Opens a whole drive for flashing: exclusively (O_EXCL: fails while mounted
 * or claimed), with O_DIRECT, and only if it is still the drive the caller
 * listed (same device number and size) and writable.
 */
export async function openBlockDevice(path: string, expected: ExpectedIdentity): Promise<FlashTarget> {
  await requireBlockDevice(path);
  let handle: FileHandle;
  try {
    handle = await open(path, constants.O_RDWR | constants.O_EXCL | constants.O_DIRECT);
  } catch (err) {
    throw openError(path, err);
  }
  try {
    const st = await handle.stat({ bigint: true });
    if (!st.isBlockDevice()) throw flashError('not-a-block-device', `cannot flash ${path}: it is not a block device; name a whole drive such as /dev/sdb`, { drive: path });
    const dev = deviceNumber(st.rdev);
    const facts = await sysBlockFacts(dev);
    if (!facts) throw flashError('drive-removed', `cannot flash ${path}: the drive disappeared while it was being opened; plug it in again`, { drive: path });
    if (facts.parent !== null) {
      throw flashError('not-a-whole-drive', `cannot flash ${path}: it is a partition of /dev/${facts.parent}; name the whole drive /dev/${facts.parent}`, { drive: path, parent: `/dev/${facts.parent}` });
    }
    if (expected.dev !== undefined && expected.dev !== dev) {
      throw flashError('drive-changed', `cannot flash ${path}: it is now device ${dev}, not ${expected.dev} as listed; another drive took its name, list the drives again and check which one to flash`, { drive: path, expected: expected.dev, actual: dev });
    }
    if (facts.size !== expected.size) {
      throw flashError('drive-changed', `cannot flash ${path}: it is now ${facts.size} bytes, not ${expected.size} as listed; the card was swapped or resized, list the drives again and check which one to flash`, { drive: path, expected: expected.size, actual: facts.size });
    }
    if (facts.readOnly) throw flashError('read-only-drive', `cannot flash ${path}: the drive is read-only; slide its write-protect switch off and try again`, { drive: path });
    return new BlockDevice(path, facts.size, dev, facts.logicalBlockSize, handle);
  } catch (err) {
    await handle.close().catch(() => {});
    throw err;
  }
}

/** Opens a drive read-only with O_DIRECT, for verifying a drive flashed earlier (or by another tool). */
export async function openBlockDeviceForReading(path: string): Promise<FlashTarget> {
  await requireBlockDevice(path);
  let handle: FileHandle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_DIRECT);
  } catch (err) {
    throw openError(path, err);
  }
  const dev = deviceNumber((await handle.stat({ bigint: true })).rdev);
  const facts = await sysBlockFacts(dev);
  return new BlockDevice(path, facts?.size ?? 0, dev, facts?.logicalBlockSize ?? 512, handle);
}
