/** The username rule: snapd's regular expression plus the checks its character range misses. */
import { ccError } from './errors.js';

/**
 * snapd's osutil.AddUser rule, kept byte for byte. Note that `.-_` inside the
 * class is a range (0x2E-0x5F) which also admits `/`, `:`, `@`, upper case...;
 * the portable check below closes that hole.
 */
export const SNAPD_USERNAME = /^[a-z0-9][-a-z0-9+.-_]*$/;
const PORTABLE = /^[a-z0-9][-a-z0-9+._]*$/;
const RESERVED = new Set(['root']);

/** Throws unless `name` is acceptable as a new login name (format only, not existence). */
export function checkUsername(name: string): string {
  const fail = (why: string, fix: string) => ccError('invalid-username', `cannot use username "${name}": ${why}; ${fix}`);
  if (name === '') throw fail('it is empty', 'the account needs a username');
  if (RESERVED.has(name)) throw fail('it is reserved for the system administrator', 'choose another username');
  if (name.includes('/')) throw fail('it contains "/"', 'use only a-z, 0-9 and - + . _');
  if (name.includes('..')) throw fail('it contains ".."', 'use only a-z, 0-9 and - + . _ without ".."');
  if (name.length > 32) throw fail('it is longer than 32 characters', 'choose a shorter username');
  if (!SNAPD_USERNAME.test(name) || !PORTABLE.test(name)) {
    throw fail('it must start with a-z or 0-9 and contain only a-z, 0-9 and - + . _', 'choose a username that follows this rule');
  }
  return name;
}
