import { CoreforgeError } from '../errors.js';

/** The closed union of error kinds thrown by the flash libraries (sources, bmap, drives, writer, verifier). */
export type FlashErrorKind =
  /** The image path does not exist or is not a regular file. */
  | 'image-not-found'
  /** The image's extension and content disagree, or it is in a format coreforge cannot flash (zip, bz2...). */
  | 'unsupported-image'
  /** The image starts with no partition table and no known filesystem (a model, a text file, a qcow2): flashed only when forced. */
  | 'unrecognized-image'
  /** A compressed image ends before its data does (an interrupted download or copy). */
  | 'truncated-image'
  /** A compressed image's data is damaged (the decompressor rejects it). */
  | 'corrupt-image'
  /** A program needed to read the image (xz, zstd) is not installed. */
  | 'tool-missing'
  /** The bmap named explicitly does not exist. */
  | 'bmap-not-found'
  /** The bmap file cannot be parsed or has an unsupported version or checksum type. */
  | 'invalid-bmap'
  /** The bmap's own BmapFileChecksum does not match its content (edited or damaged bmap). */
  | 'bmap-checksum-mismatch'
  /** The bmap describes another image: ImageSize or a range's checksum does not match the image. */
  | 'bmap-mismatch'
  /** No block device at the target path (unplugged, mistyped). */
  | 'drive-not-found'
  /** The target path exists but is not a block device (a regular file, a directory). */
  | 'not-a-block-device'
  /** The target is a partition, not a whole drive. */
  | 'not-a-whole-drive'
  /** The target holds the running system (/, /boot, /usr, /var, swap, or has holders) and was not allowed by name. */
  | 'system-drive'
  /** The target holds the image file being flashed. */
  | 'source-drive'
  /** The target is read-only (write-protect switch, `losetup -r`). */
  | 'read-only-drive'
  /** The target is smaller than the image. */
  | 'drive-too-small'
  /** The target is mounted or held open exclusively by another program and could not be freed. */
  | 'drive-busy'
  /** The target no longer matches the drive that was listed (size, serial, device number). */
  | 'drive-changed'
  /** The target disappeared while it was being written or verified. */
  | 'drive-removed'
  /** The target failed a read or write. */
  | 'io-error'
  /** The target ran out of space (the image is bigger than the drive accepts). */
  | 'no-space'
  /** The daemon lacks the permission to open the target or the image. */
  | 'permission-denied'
  /** Read-back verification found bytes on the target that differ from the image. */
  | 'verify-mismatch'
  /** The operation was cancelled by its caller. */
  | 'aborted';

/** Shorthand for making a flash error with a kind from the closed union. */
export function flashError(kind: FlashErrorKind, message: string, details?: Record<string, unknown>): CoreforgeError<FlashErrorKind> {
  return new CoreforgeError(kind, message, details);
}

/** The error every flash operation throws when its AbortSignal fires. */
export function abortedError(what: string): CoreforgeError<FlashErrorKind> {
  return flashError('aborted', `${what} was aborted; start it again to finish`);
}

/** Throws the aborted error if the signal has fired; called between units of work. */
export function throwIfAborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) throw abortedError(what);
}
