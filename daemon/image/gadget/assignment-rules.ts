import type { ParsedAssignment } from './parse.js';
import type { VolumeAssignment } from './types.js';

/**
 * `volume-assignments:` (UC24, snapd gadget.go validateVolumeAssignments): each
 * variant maps volumes of this gadget to devices under /dev/disk/by-path or
 * /dev/disk/by-id, the only names that can be known before the device boots,
 * and no two variants map the same volumes to the same devices (the first
 * match wins at install, so a twin could never be chosen).
 */

const devicePrefixes = ['/dev/disk/by-path', '/dev/disk/by-id'];

function checkVariant(a: ParsedAssignment, volumes: ReadonlySet<string>): string | undefined {
  if (a.assignments.length === 0) return 'no assignments specified; map at least one volume to a device under "assignment"';
  for (const { volume, device } of a.assignments) {
    if (!volumes.has(volume)) {
      return `volume "${volume}" is mentioned in assignment but has not been defined; assign volumes of "volumes:" only`;
    }
    if (!devicePrefixes.some((p) => device.startsWith(p))) {
      return `"${volume}": unsupported device path "${device}", for now only paths under /dev/disk/{by-path,by-id} are valid; name the device by its /dev/disk/by-path or /dev/disk/by-id link`;
    }
  }
  return undefined;
}

/** The same volumes on the same devices, whatever the order they are listed in. */
function identity(a: ParsedAssignment): string {
  return JSON.stringify(a.assignments.map(({ volume, device }) => [volume, device]).sort());
}

/** Checks the volume-assignment variants against the gadget's volume names; returns the problem text or the typed variants. */
export function checkVolumeAssignments(variants: readonly ParsedAssignment[], volumes: readonly string[]): VolumeAssignment[] | string {
  const names = new Set(volumes);
  for (const a of variants) {
    const problem = checkVariant(a, names);
    if (problem) return `volume-assignment variant "${a.name}": ${problem}`;
  }
  const seen = new Map<string, string>();
  for (const a of variants) {
    const key = identity(a);
    const twin = seen.get(key);
    if (twin !== undefined) {
      return `volume-assignment variant "${a.name}": identical to "${twin}"; give each variant its own devices or remove one`;
    }
    seen.set(key, a.name);
  }
  return variants.map((a) => ({ name: a.name, assignments: a.assignments.map((x) => ({ ...x })) }));
}
