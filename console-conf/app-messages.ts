import { isCoreforgeError } from './errors.js';

/** The text shown on screen for an error: ours as they are, anything else marked unexpected. */
export function message(err: unknown): string {
  return isCoreforgeError(err) ? err.message : `unexpected error: ${(err as Error)?.message ?? String(err)}`;
}
