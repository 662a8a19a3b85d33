/** The once-only marker var/lib/console-conf/complete, holding who owns the device. */
import { atomicWrite, readRegular } from './fs-edge.js';
import { LIMITS } from './limits.js';
import { PATHS, underRoot, writableUnderRoot } from './paths.js';

export interface Owner {
  username: string;
  origin: string;
}

/** The owner recorded in the marker, `{username:'', origin:''}` for an empty marker, undefined without one. */
export async function readMarker(root: string): Promise<Owner | undefined> {
  const path = underRoot(root, PATHS.marker);
  let text: string | undefined;
  try {
    // a FIFO or a device here must not hang console-conf on every console
    text = await readRegular(path, { maxBytes: LIMITS.maxMarkerBytes, fail: (why) => new Error(why) });
  } catch {
    return undefined;
  }
  if (text === undefined) return undefined;
  try {
    const v = JSON.parse(text) as Partial<Owner>;
    return { username: String(v.username ?? ''), origin: String(v.origin ?? '') };
  } catch {
    return { username: '', origin: '' };
  }
}

/** Marks the device configured (atomically, so a crash leaves either no marker or a whole one). */
export async function writeMarker(root: string, owner: Owner): Promise<void> {
  await atomicWrite(await writableUnderRoot(root, PATHS.marker), JSON.stringify(owner) + '\n', { mode: 0o644 });
}
