import { badTaskData, booleanField, dataObject, listField, optionalStringField, stringField } from '../changes/task-data.js';

/** One drive of a flash, as the client listed it: a drive whose size or serial changed since is refused. */
export interface FlashTaskTarget {
  path: string;
  size: number;
  serial?: string;
}

/** What a flash task keeps in state.db: the image, the drives and the choices made for them. */
export interface FlashTaskData {
  /** Absolute path of the image on the daemon's host: .img, or .gz, .xz, .zst. */
  image: string;
  /** Absolute path of a bmap; by default one beside the image is used. */
  bmap?: string;
  targets: FlashTaskTarget[];
  /** Read every drive back and compare. */
  verify: boolean;
  /** System drives the user named to be erased anyway. */
  'allow-system-drive': string[];
  /** Loop devices may be targets only when this is true. */
  'include-loop': boolean;
  /** Write an image that starts with no partition table and no known filesystem (refused otherwise). */
  force?: boolean;
}

/** How one drive of a flash fared (an element of `FlashTaskResult.targets`). */
export interface FlashTaskTargetResult {
  path: string;
  ok: boolean;
  'bytes-written': number;
  verified: boolean;
  /** Byte ranges [start, end) that read back different from the image. */
  mismatches: { start: number; end: number }[];
  /** Why this drive failed: its error kind and message, and the error's facts (byte range, errno) when it has any. */
  error: { kind: string; message: string; details?: Record<string, unknown> } | null;
  /** Filesystems of the drive that were unmounted before writing, each with the device it was mounted from. */
  unmounted: { device: string; mountpoint: string }[];
  /** Seconds spent writing, and writing plus verifying, this drive. */
  'write-seconds': number;
  seconds: number;
}

/** The result of a flash change, kept when one drive failed so the others are still reported. */
export interface FlashTaskResult {
  image: string;
  bmap: string | null;
  'image-size': number;
  /** Bytes written to each drive: the bmap's mapped bytes, or the whole image. */
  'mapped-bytes': number;
  targets: FlashTaskTargetResult[];
}

function target(value: unknown, path: string): FlashTaskTarget {
  const t = dataObject(value, path);
  const size = t.size;
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw badTaskData(`${path}.size`, 'must be a size in bytes');
  const serial = optionalStringField(t, 'serial', `${path}.serial`);
  return { path: stringField(t, 'path', `${path}.path`), size, ...(serial ? { serial } : {}) };
}

/** Checks a flash task's data (the flash engine checks the paths and drives themselves when it runs). */
export function parseFlashTaskData(data: unknown): FlashTaskData {
  const d = dataObject(data);
  const bmap = optionalStringField(d, 'bmap');
  const targets = listField(d, 'targets', target);
  if (targets.length === 0) throw badTaskData('targets', 'must list at least one drive');
  const allow = listField(d, 'allow-system-drive', (v, path) => {
    if (typeof v !== 'string') throw badTaskData(path, 'must be a drive path');
    return v;
  });
  return {
    image: stringField(d, 'image'),
    ...(bmap ? { bmap } : {}),
    targets,
    verify: booleanField(d, 'verify', true),
    'allow-system-drive': allow,
    'include-loop': booleanField(d, 'include-loop', false),
    ...(booleanField(d, 'force', false) ? { force: true } : {}),
  };
}
