// The account assertion: a store account (snapd's asserts/account.go).

import { checkNotEmptyString, checkOptionalString, checkRFC3339Date } from '../header-checks.js';
import type { AssertionParts } from '../assertion.js';

/** The typed view of an account assertion. */
export interface AccountInfo {
  type: 'account';
  accountId: string;
  displayName: string;
  username: string;
  /** 'certified' is normalized to 'verified', as snapd does */
  validation: string;
  timestamp: Date;
}

/** Checks an account assertion and returns its typed view. */
export function assembleAccount(a: AssertionParts): AccountInfo {
  const h = a.headers;
  const displayName = checkNotEmptyString(h, 'display-name');
  let validation = checkNotEmptyString(h, 'validation');
  if (validation === 'certified') validation = 'verified';
  const timestamp = checkRFC3339Date(h, 'timestamp');
  const username = checkOptionalString(h, 'username');
  return { type: 'account', accountId: h['account-id'] as string, displayName, username, validation, timestamp };
}
