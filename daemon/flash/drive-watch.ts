import { type Drive, type ListDrivesOptions, listDrives } from './drives.js';

/** Drives that appeared or went away between two listings. */
export interface DriveChange {
  attached: Drive[];
  detached: Drive[];
}

/** A drive is the same drive while its path, device number, size and serial stay the same. */
function identity(d: Drive): string {
  return `${d.path}|${d.dev}|${d.size}|${d.serial}`;
}

/** What changed between two listings; a card swapped in the same slot is one detach and one attach. */
export function diffDrives(before: readonly Drive[], after: readonly Drive[]): DriveChange {
  const was = new Set(before.map(identity));
  const is = new Set(after.map(identity));
  return { attached: after.filter((d) => !was.has(identity(d))), detached: before.filter((d) => !is.has(identity(d))) };
}

/**
 * Lists drives every `intervalMs` until the signal fires, calling `onChange`
 * when drives come or go (the API turns these into socket.io events).
 * Resolves when aborted; a failed listing is retried at the next tick.
 */
export async function watchDrives(
  options: ListDrivesOptions & { intervalMs?: number },
  onChange: (change: DriveChange, drives: Drive[]) => void,
  signal: AbortSignal,
  list: (options: ListDrivesOptions) => Promise<Drive[]> = (o) => listDrives(o),
): Promise<void> {
  const interval = options.intervalMs ?? 2000;
  let previous: Drive[] | null = null;
  while (!signal.aborted) {
    try {
      const drives = await list(options);
      if (previous) {
        const change = diffDrives(previous, drives);
        if (change.attached.length > 0 || change.detached.length > 0) onChange(change, drives);
      }
      previous = drives;
    } catch {
      // lsblk can fail while a device is half-registered; the next tick sees the settled state
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, interval);
      signal.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve();
      }, { once: true });
    });
  }
}
