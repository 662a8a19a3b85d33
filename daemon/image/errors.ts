import { CoreforgeError } from '../errors.js';

/** The closed union of error kinds thrown by the image libraries (gadget, partition tables, bmap). */
export type ImageErrorKind =
  /** meta/gadget.yaml cannot be parsed, or breaks one of snapd's gadget rules. */
  | 'invalid-gadget'
  /** Gadget content (source, target, image) is missing, escapes the snap, or does not fit. */
  | 'invalid-gadget-content'
  /** The gadget's volumes cannot be laid out with the requested sector or image size. */
  | 'invalid-layout'
  /** A partition table cannot hold the partitions asked for (count, bounds, names, GUIDs). */
  | 'invalid-partition-table'
  /** A bmap file is malformed, of an unsupported version, or fails its own checksum. */
  | 'invalid-bmap';

/** Shorthand for throwing an image error with a kind from the closed union. */
export function imageError(kind: ImageErrorKind, message: string, details?: Record<string, unknown>): CoreforgeError<ImageErrorKind> {
  return new CoreforgeError(kind, message, details);
}
