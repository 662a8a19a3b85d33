import { validAccountKeyName } from '../asserts/index.js';
import { keysError } from './errors.js';

/** The key name create-key uses when none is given, as snapd's. */
export const defaultKeyName = 'default';

/** Throws snapd's error for a key name that breaks its account-key name rule. */
export function checkKeyName(name: unknown): string {
  if (typeof name !== 'string' || !validAccountKeyName.test(name)) {
    throw keysError(
      'invalid-key-name',
      `key name ${JSON.stringify(typeof name === 'string' ? name : String(name))} is not valid; only ASCII letters, digits, and hyphens are allowed` +
        ` (lowercase, at least one letter, no leading, trailing or double hyphen), e.g. "default" or "my-model-key"`,
    );
  }
  return name;
}
