import type { PartialProperty } from './types.js';

/**
 * `partial:` (snapd gadget.go validatePartial): the parts of a volume a gadget
 * may leave to an installer, each listed once. Checked before a volume's own
 * rules; what each value relaxes is applied by the implicit values and the
 * structure rules.
 */

export const partialProperties: readonly PartialProperty[] = ['size', 'filesystem', 'schema', 'structure'];

/** Checks a volume's `partial:` list; returns the problem text or the typed list. */
export function checkPartial(volume: string, values: readonly string[]): PartialProperty[] | string {
  const seen = new Set<string>();
  for (const value of values) {
    if (!(partialProperties as readonly string[]).includes(value)) {
      return `"${value}" is not a valid partial value (volume "${volume}"); use ${partialProperties.join(', ')}`;
    }
    if (seen.has(value)) return `partial value "${value}" is repeated (volume "${volume}"); list each value once`;
    seen.add(value);
  }
  return [...seen] as PartialProperty[];
}
