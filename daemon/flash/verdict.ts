// Pure: the safety verdict for a drive, from plain facts. No I/O, table-tested.
import { flashError, type FlashErrorKind } from './errors.js';
import type { CoreforgeError } from '../errors.js';

/** What a drive is, as discovery found it (everything a verdict depends on). */
export interface DriveFacts {
  path: string;
  size: number;
  readOnly: boolean;
  isLoop: boolean;
  /** Mountpoints of the drive and of its partitions; "[SWAP]" for active swap. */
  mountpoints: string[];
  /** Devices stacked on the drive or its partitions (LVM, dm-crypt, md RAID). */
  holders: string[];
  /** The drive (or one of its partitions) holds the image file being flashed. */
  holdsImage: boolean;
}

/** The verdict on a drive: the first four are refused; mounted (it is unmounted before writing) and large are warnings. */
export type Verdict = 'ok' | 'system' | 'source' | 'read-only' | 'too-small' | 'mounted' | 'large';

/** What the verdict is computed against. */
export interface VerdictContext {
  /** Size of the image to flash; null when no image is chosen (or its size is not known yet). */
  imageSize: number | null;
  /** Paths of system drives the user allowed by name (`--allow-system-drive`). */
  allowSystemDrives?: readonly string[];
  /** Bytes above which a drive is unusually big for an SD card or USB stick. Default 128 GB. */
  largeThreshold?: number;
}

/** Mountpoints that make a drive the running system's. */
export const systemMountpoints = ['/', '/boot', '/boot/efi', '/boot/firmware', '/usr', '/var', '[SWAP]'];

/** Default size above which a drive is flagged 'large': no SD card or stick a device maker flashes is that big. */
export const largeDriveBytes = 128e9;

const order: Verdict[] = ['system', 'source', 'read-only', 'too-small', 'mounted', 'large'];

/** Every finding about a drive, each with the verdict it leads to, in rule order. */
function assess(drive: DriveFacts, context: VerdictContext): { verdict: Verdict; reason: string }[] {
  const found: { verdict: Verdict; reason: string }[] = [];
  const systemMounts = drive.mountpoints.filter((m) => systemMountpoints.includes(m));
  const allowed = context.allowSystemDrives?.includes(drive.path) ?? false;
  if (systemMounts.length > 0 || drive.holders.length > 0) {
    const what = [
      ...systemMounts.map((m) => (m === '[SWAP]' ? 'swap' : m)),
      ...(drive.holders.length > 0 ? [`holders ${drive.holders.join(', ')}`] : []),
    ].join(', ');
    if (allowed) found.push({ verdict: 'ok', reason: `system drive (${what}) allowed by name` });
    else found.push({ verdict: 'system', reason: `system drive: holds ${what}` });
  }
  if (drive.holdsImage) found.push({ verdict: 'source', reason: 'holds the image file being flashed' });
  if (drive.readOnly) found.push({ verdict: 'read-only', reason: 'read-only' });
  if (context.imageSize !== null && drive.size < context.imageSize) {
    found.push({ verdict: 'too-small', reason: `too small: ${drive.size} bytes for a ${context.imageSize}-byte image` });
  }
  // A card plugged into a desktop is mounted at once: flashing unmounts it, and the user is told where it was mounted.
  for (const m of drive.mountpoints) {
    if (!systemMountpoints.includes(m)) found.push({ verdict: 'mounted', reason: `mounted on ${m}` });
  }
  if (drive.size > (context.largeThreshold ?? largeDriveBytes)) {
    found.push({ verdict: 'large', reason: `large: ${(drive.size / 1e9).toFixed(1)} GB, more than an SD card or USB stick usually is` });
  }
  return found;
}

/** The verdict (the most serious finding) and every reason found. */
export function driveVerdict(drive: DriveFacts, context: VerdictContext): { verdict: Verdict; reasons: string[] } {
  const found = assess(drive, context);
  const verdict = order.find((v) => found.some((f) => f.verdict === v)) ?? 'ok';
  return { verdict, reasons: found.map((f) => f.reason) };
}

/** True for the verdicts that forbid writing. */
export function isRefused(verdict: Verdict): boolean {
  return verdict === 'system' || verdict === 'source' || verdict === 'read-only' || verdict === 'too-small';
}

const refusalKinds: Record<'system' | 'source' | 'read-only' | 'too-small', FlashErrorKind> = {
  system: 'system-drive',
  source: 'source-drive',
  'read-only': 'read-only-drive',
  'too-small': 'drive-too-small',
};

const fixes: Record<'system' | 'source' | 'read-only' | 'too-small', string> = {
  system: 'pick another drive; if you really mean to erase this one, name it with --allow-system-drive',
  source: 'copy the image to another drive first, or flash another drive',
  'read-only': 'slide the write-protect switch off (or attach the loop device read-write) and try again',
  'too-small': 'use a bigger drive',
};

/** The error for a refused drive, naming the drive, the rule and the fix; null when the verdict allows writing. */
export function refusal(drive: DriveFacts, context: VerdictContext): CoreforgeError<FlashErrorKind> | null {
  const { verdict, reasons } = driveVerdict(drive, context);
  if (!isRefused(verdict)) return null;
  const v = verdict as keyof typeof refusalKinds;
  const why = assess(drive, context).filter((f) => f.verdict === v).map((f) => f.reason);
  return flashError(refusalKinds[v], `cannot flash ${drive.path}: ${why.join('; ')}; ${fixes[v]}`, { drive: drive.path, verdict, reasons });
}
