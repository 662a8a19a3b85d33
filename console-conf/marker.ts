/** The once-only marker var/lib/console-conf/complete, holding who owns the device. */
import { readFile } from 'node:fs/promises';
import { atomicWrite } from './fs-edge.js';
import { PATHS, safeUnderRoot, underRoot } from './paths.js';

export interface Owner {
  username: string;
  origin: string;
}

/** The owner recorded in the marker, `{username:'', origin:''}` for an empty marker, undefined without one. */
export async function readMarker(root: string): Promise<Owner | undefined> {
  const path = underRoot(root, PATHS.marker);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const v = JSON.parse(text) as Partial<Owner>;
    return { username: String(v.username ?? ''), origin: String(v.origin ?? '') };
  } catch {
    return { username: '', origin: '' };
  }
}

/** Marks the device configured (atomically, so a crash leaves either no marker or a whole one). */
export async function writeMarker(root: string, owner: Owner): Promise<void> {
  await atomicWrite(await safeUnderRoot(root, PATHS.marker), JSON.stringify(owner) + '\n', { mode: 0o644 });
}
