import { CoreforgeError } from '../errors.js';

/** The closed set of error kinds thrown by daemon/keys. */
export type KeysErrorKind =
  /** The key name breaks snapd's account-key name rule. */
  | 'invalid-key-name'
  /** No key of that name is in the keyring. */
  | 'key-not-found'
  /** A key of that name (or the same key under another name) is already in the keyring. */
  | 'key-exists'
  /** The passphrase does not unlock the key. */
  | 'wrong-passphrase'
  /** No passphrase was given where one is needed, or it is not a string. */
  | 'passphrase-required'
  /** An account-key-request was asked for without an account id. */
  | 'invalid-account-id'
  /** The key material offered for import is unusable (not RSA, public only, several keys, gpg failed). */
  | 'key-import-failed'
  /** The gnupg home to import from is missing, not a plain directory, or holds links, special or oversized keyring files. */
  | 'invalid-gnupg-home'
  /** gpg, needed to import from a gnupg home, is not installed (the details name the Debian package). */
  | 'tool-missing';

/** Builds an error of this module. */
export function keysError(kind: KeysErrorKind, message: string, details?: Record<string, unknown>): CoreforgeError<KeysErrorKind> {
  return new CoreforgeError<KeysErrorKind>(kind, message, details);
}
