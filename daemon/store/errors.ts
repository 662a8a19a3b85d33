import { CoreforgeError } from '../errors.js';

/** The closed set of error kinds thrown by daemon/store (client, local store, server). */
export type StoreErrorKind =
  /** A file given to `store add` is not a snap (not squashfs, no or invalid meta/snap.yaml). */
  | 'invalid-snap'
  /** No snap of that name is in the store. */
  | 'snap-not-found'
  /** The snap exists but has no revision for the channel (or architecture) asked for. */
  | 'revision-not-found'
  /** A channel string is not TRACK/RISK[/BRANCH] with a known risk. */
  | 'invalid-channel'
  /** An account with that email or username already exists in the local store. */
  | 'account-exists'
  /** An account field (email, username, SSH key) breaks its rule. */
  | 'invalid-account'
  /** The store has no account with that email (or id). */
  | 'account-not-found'
  /** The email and password do not match an account. */
  | 'invalid-credentials'
  /** The account needs a one-time code and none (or a wrong one) was given. */
  | 'otp-required'
  /** The SSO refuses logins for a while after too many failed ones (for the account or from this address): wait and try again. */
  | 'login-throttled'
  /** The request needs a logged-in store account and there is none. */
  | 'login-required'
  /** The stored login has expired or was refused by the store: log in again. */
  | 'login-expired'
  /** The key is already registered with a store account. */
  | 'key-already-registered'
  /** An account-key-request is malformed, badly signed or for another account. */
  | 'invalid-account-key-request'
  /** The store could not be reached (connection refused, DNS, timeout) or kept failing with 5xx. */
  | 'store-unreachable'
  /** The store answered with a body that is not the documented shape. */
  | 'bad-store-reply'
  /** The store refused a request for a reason it stated. */
  | 'store-error'
  /** A downloaded snap does not match its snap-revision (SHA3-384 or size). */
  | 'digest-mismatch'
  /** A signed assertion the store served is not in the store or does not check. */
  | 'store-assertion-not-found';

/** Builds an error of this module. */
export function storeError(kind: StoreErrorKind, message: string, details?: Record<string, unknown>): CoreforgeError<StoreErrorKind> {
  return new CoreforgeError<StoreErrorKind>(kind, message, details);
}
