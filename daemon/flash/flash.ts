import { realpath } from 'node:fs/promises';
import type { Caller } from '../caller/caller.js';
import type { Bmap } from './bmap.js';
import { openBlockDevice, requireBlockDevice } from './block-device.js';
import { type DigestTarget, digestChunks } from './digests.js';
import { type Drive, type ListDrivesOptions, listDrives } from './drives.js';
import { flashError, throwIfAborted } from './errors.js';
import { type Exec, runProgram } from './exec.js';
import { loadBmap } from './find-bmap.js';
import { measureImageSize } from './measure.js';
import { openImageSource, type OpenedImage } from './open-source.js';
import type { FlashProgressCallback } from './progress.js';
import { type ByteRange, formatRange, type RangeDigest, rangesBytes, splitRanges } from './ranges.js';
import type { ImageSource } from './source.js';
import { sysBlockFacts } from './sysfs.js';
import type { FlashTarget } from './target.js';
import { requireDiskImage } from './check-image.js';
import { type Mount, unmountDrive, type UnmountCommand } from './unmount.js';
import { refusal } from './verdict.js';
import type { SharedHasher } from './hash-worker.js';
import { locateDifferences, verifyHasher, verifyTarget } from './verifier.js';
import { writeImage } from './writer.js';

/** A drive as the caller listed it and expects to find it: flashing refuses a drive that changed since. */
export interface ExpectedDrive {
  path: string;
  size: number;
  /** Serial as listed; checked when non-empty. */
  serial?: string;
}

/** One flash: an image onto one or more drives. */
export interface FlashRequest {
  image: string;
  /** Whose rights the image and its bmap are read with (default: the daemon's). */
  caller?: Caller;
  /** A bmap to use; by default IMAGE.bmap (or, for IMAGE.img.xz, IMAGE.img.bmap) is used when present. */
  bmap?: string;
  /** false to write every byte even when a bmap sits beside the image. */
  useBmap?: boolean;
  targets: ExpectedDrive[];
  /** System drives the user named explicitly (`--allow-system-drive`). */
  allowSystemDrives?: string[];
  /** Read every drive back and compare; default true. */
  verify?: boolean;
  /** Write an image that starts with no partition table and no known filesystem (refused otherwise). */
  force?: boolean;
}

/** How one drive fared. */
export interface FlashTargetResult {
  path: string;
  ok: boolean;
  bytesWritten: number;
  verified: boolean;
  /** Exact byte ranges that read back different from the image. */
  mismatches: ByteRange[];
  error: Error | null;
  /** Filesystems of the drive that were unmounted before writing. */
  unmounted: Mount[];
}

/** What a flash did. */
export interface FlashResult {
  image: string;
  bmap: string | null;
  imageSize: number;
  /** Bytes written to each drive (the bmap's mapped bytes, or the whole image). */
  mappedBytes: number;
  targets: FlashTargetResult[];
}

/** The outside world flashing touches; tests replace parts of it. */
export interface FlashDeps {
  exec: Exec;
  listDrives: (options: ListDrivesOptions) => Promise<Drive[]>;
  openTarget: (path: string, expected: { size: number; dev?: string }) => Promise<FlashTarget>;
  unmountCommand: UnmountCommand;
}

/** Options that shape a flash without changing what it writes. */
export interface FlashOptions {
  onProgress?: FlashProgressCallback;
  /** Called as each mounted filesystem of a drive is unmounted, before anything is written. */
  onUnmounted?: (drive: string, mount: Mount) => void;
  /** Bytes per write and per read-back; default 4 MiB. */
  writeSize?: number;
  deps?: Partial<FlashDeps>;
}

const defaultDeps: FlashDeps = {
  exec: runProgram,
  listDrives: (options) => listDrives(options),
  openTarget: openBlockDevice,
  unmountCommand: ['umount'],
};

const MiB = 1 << 20;

/** Throws 'bmap-mismatch' when a bmap cannot describe this image. */
function checkBmapFits(bmap: Bmap, bmapPath: string, source: ImageSource): void {
  if (source.size !== null && source.size !== bmap.imageSize) {
    throw flashError(
      'bmap-mismatch',
      `cannot flash ${source.path} with bmap ${bmapPath}: the bmap's ImageSize is ${bmap.imageSize} bytes but the image is ${source.size}; the bmap belongs to another image, use the one built with this image or pass --no-bmap`,
      { image: source.path, bmap: bmapPath, bmapSize: bmap.imageSize, imageSize: source.size },
    );
  }
}

/** Finds the listed drive for a requested path, or throws the error that says why there is none. */
async function findDrive(drives: Drive[], path: string): Promise<Drive> {
  let real = path;
  try {
    real = await realpath(path);
  } catch {
    // requireBlockDevice below reports the missing path
  }
  const drive = drives.find((d) => d.path === real);
  if (drive) return drive;
  await requireBlockDevice(path);
  const sys = await sysBlockFacts(real.replace(/^\/dev\//, ''));
  if (sys?.parent) {
    throw flashError('not-a-whole-drive', `cannot flash ${path}: it is a partition of /dev/${sys.parent}; name the whole drive /dev/${sys.parent}`, { drive: path, parent: `/dev/${sys.parent}` });
  }
  throw flashError('drive-not-found', `cannot flash ${path}: it is not a drive coreforge can flash; see "coreforge drives --include-loop" for the candidates`, { drive: path });
}

/** Throws 'drive-changed' when a drive is not the one the caller listed. */
function checkIdentity(drive: Drive, expected: ExpectedDrive): void {
  if (drive.size !== expected.size) {
    throw flashError('drive-changed', `cannot flash ${expected.path}: it is now ${drive.size} bytes, not ${expected.size} as listed; the card was swapped or resized, list the drives again and check which one to flash`, { drive: expected.path, expected: expected.size, actual: drive.size });
  }
  if (expected.serial && drive.serial !== expected.serial) {
    throw flashError('drive-changed', `cannot flash ${expected.path}: its serial is now "${drive.serial}", not "${expected.serial}" as listed; another drive took its place, list the drives again`, { drive: expected.path, expected: expected.serial, actual: drive.serial });
  }
}

/**
 * Flashes an image onto drives: checks the image, its bmap and every drive
 * before writing anything, unmounts and opens the drives exclusively, writes
 * them from one read of the image, then reads each one back. Errors of the
 * image, of the request and abort are thrown; a drive that fails mid-write or
 * verification is reported in its result while the others finish.
 */
export async function flashImage(request: FlashRequest, options: FlashOptions = {}, signal?: AbortSignal): Promise<FlashResult> {
  const deps = { ...defaultDeps, ...options.deps };
  if (request.targets.length === 0) throw flashError('drive-not-found', 'cannot flash: no target drive given; name at least one drive (see "coreforge drives")');

  const opened = await openImageSource(request.image, deps.exec, request.caller);
  try {
    return await flashOpened(request, opened, deps, options, signal);
  } finally {
    opened.close();
  }
}

async function flashOpened(request: FlashRequest, opened: OpenedImage, deps: FlashDeps, options: FlashOptions, signal?: AbortSignal): Promise<FlashResult> {
  const source = opened.source;
  const onProgress = options.onProgress;
  const writeSize = options.writeSize ?? 4 * MiB;
  const loaded = request.useBmap === false ? null : await loadBmap(request.image, request.bmap, request.caller);
  if (loaded) checkBmapFits(loaded.bmap, loaded.path, source);
  const imageSize = loaded?.bmap.imageSize ?? source.size ?? await measureImageSize(
    source,
    (p) => request.targets.forEach((t) => onProgress?.(t.path, p)),
    signal,
  );
  throwIfAborted(signal, 'the flash');
  if (!request.force) await requireDiskImage(source, imageSize, signal);

  const drives = await deps.listDrives({ includeLoop: true, image: { path: opened.file, size: imageSize }, allowSystemDrives: request.allowSystemDrives });
  const chosen: Drive[] = [];
  for (const expected of request.targets) {
    const drive = await findDrive(drives, expected.path);
    const refused = refusal(drive, { imageSize, allowSystemDrives: request.allowSystemDrives });
    if (refused) throw refused;
    checkIdentity(drive, expected);
    if (chosen.some((c) => c.path === drive.path)) throw flashError('drive-busy', `cannot flash ${expected.path} twice in one flash; name each drive once`, { drive: expected.path });
    chosen.push(drive);
  }

  const unmounted = new Map<string, Mount[]>();
  for (const drive of chosen) {
    unmounted.set(drive.path, await unmountDrive(drive.path, deps.exec, signal, deps.unmountCommand, (m) => options.onUnmounted?.(drive.path, m)));
  }
  const targets: FlashTarget[] = [];
  // One read-back hashing thread per drive, started before the writes so that it is up when they end.
  const hashers = request.verify !== false ? chosen.map(() => verifyHasher(writeSize)) : [];
  try {
    for (const drive of chosen) targets.push(await deps.openTarget(drive.path, { size: drive.size, dev: drive.dev }));
    const result = await writeAndVerify(request, source, loaded?.bmap ?? null, loaded?.path ?? null, imageSize, targets, hashers, deps, onProgress, writeSize, signal);
    return { ...result, targets: result.targets.map((t) => ({ ...t, unmounted: unmounted.get(t.path) ?? [] })) };
  } finally {
    await Promise.all([...targets.map((t) => t.close()), ...hashers.map((h) => h.close())]);
    // let the kernel see the new partitions; one blockdev per drive, all at once
    await Promise.all(targets.map((t) => deps.exec('blockdev', ['--rereadpt', t.path]).catch(() => null)));
  }
}

async function writeAndVerify(
  request: FlashRequest,
  source: ImageSource,
  bmap: Bmap | null,
  bmapPath: string | null,
  imageSize: number,
  targets: FlashTarget[],
  hashers: SharedHasher[],
  deps: FlashDeps,
  onProgress: FlashProgressCallback | undefined,
  writeSize: number,
  signal: AbortSignal | undefined,
): Promise<FlashResult> {
  const verify = request.verify !== false;
  const ranges: ByteRange[] = bmap ? bmap.ranges : [{ start: 0, end: imageSize }];
  const checked = bmap !== null && bmap.ranges.every((r) => r.checksum !== null);
  // With a bmap, each range is checked against it while it streams past and its digest is what read-back expects;
  // without one, 1 MiB pieces are hashed so a mismatch is reported within a MiB.
  const plan: DigestTarget[] = checked
    ? bmap!.ranges.map((r) => ({ start: r.start, end: r.end, expected: r.checksum }))
    : splitRanges(ranges, MiB).map((r) => ({ ...r, expected: null }));
  const algorithm = checked ? bmap!.checksumType : 'sha256';
  const digests: RangeDigest[] = [];
  const chunks = source.read(ranges, writeSize, signal);
  const mappedBytes = rangesBytes(ranges);
  const outcomes = await writeImage(
    checked || verify ? digestChunks(chunks, plan, algorithm, digests, source.path) : chunks,
    targets,
    { imageSize, total: mappedBytes, writeSize, onProgress },
    signal,
  );

  const results = await Promise.all(outcomes.map(async (o, i): Promise<FlashTargetResult> => {
    const result: FlashTargetResult = { path: o.path, ok: o.error === null, bytesWritten: o.bytesWritten, verified: false, mismatches: [], error: o.error, unmounted: [] };
    if (!result.ok || !verify) return result;
    const target = targets[i]!;
    try {
      const coarse = await verifyTarget(target, digests, { readSize: writeSize, onProgress, hasher: hashers[i] }, signal);
      result.verified = true;
      if (coarse.length > 0) {
        result.mismatches = await locateDifferences(target, source, coarse, signal).catch(() => coarse);
        if (result.mismatches.length === 0) result.mismatches = coarse; // the drive changed again while being re-read
        result.ok = false;
        const shown = result.mismatches.slice(0, 3).map(formatRange).join(', ') + (result.mismatches.length > 3 ? `, and ${result.mismatches.length - 3} more ranges` : '');
        result.error = flashError(
          'verify-mismatch',
          `verification of ${o.path} failed: ${shown} read back different from the image; the drive may be failing or counterfeit (smaller than it claims), try another drive`,
          { drive: o.path, ranges: result.mismatches },
        );
      }
    } catch (err) {
      if ((err as { kind?: string }).kind === 'aborted') throw err;
      result.ok = false;
      result.error = err instanceof Error ? err : new Error(String(err));
    }
    return result;
  }));
  return { image: request.image, bmap: bmapPath, imageSize, mappedBytes, targets: results };
}
