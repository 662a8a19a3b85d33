// The snap name rule, as snapd's naming.ValidateSnap: one function for the
// assertions, the snap.yaml check, the store and the build's --snap/--revision.

/** The rule in words, for messages. */
export const snapNameRule = '2 to 40 lowercase letters, digits and dashes, with at least one letter, no dash at either end and no two dashes together';

/** snapd's snap name rule (naming.ValidateSnap). */
export function isValidSnapName(name: string): boolean {
  if (name.length < 2 || name.length > 40) return false;
  if (!/^[a-z0-9-]*[a-z][a-z0-9-]*$/.test(name)) return false;
  return !(name.startsWith('-') || name.endsWith('-') || name.includes('--'));
}
