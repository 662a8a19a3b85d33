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
  | 'invalid-bmap'
  /** The model is not a signed model assertion (JSON, undecodable, another type). */
  | 'invalid-model'
  /** The model's signature chain does not lead to a trusted key (unknown key, bad signature). */
  | 'untrusted-model'
  /** The snaps asked for cannot be seeded for this model (missing, channels, grade rules). */
  | 'invalid-snap-set'
  /** A snap file is unusable for this model (not a snap, wrong type, architecture or base). */
  | 'invalid-snap'
  /** The output directory or work directory cannot be written. */
  | 'output-not-writable'
  /** The disk holding the output or work directory filled up. */
  | 'no-space'
  /** An external tool (mkfs, mcopy, unsquashfs) failed while building; its stderr's last lines are in the details. */
  | 'build-tool-failed'
  /** An external tool the build needs is not installed; the details name the Debian package that has it. */
  | 'tool-missing'
  /** The build was stopped by its AbortSignal (the change was aborted, or the daemon is stopping). */
  | 'aborted'
  /** A resumed build's work directory belongs to another build or is damaged. */
  | 'invalid-workdir'
  /** No build has that id. */
  | 'build-not-found'
  /** Another build is writing into the same output directory now. */
  | 'output-busy';

/** Shorthand for throwing an image error with a kind from the closed union. */
export function imageError(kind: ImageErrorKind, message: string, details?: Record<string, unknown>): CoreforgeError<ImageErrorKind> {
  return new CoreforgeError(kind, message, details);
}
