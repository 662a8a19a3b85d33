import { CoreforgeError } from '../common/errors.js';
import type { SsoKeysErrorKind } from '../common/sso-keys.js';

/** Every error kind console-conf raises (SSO lookup kinds included). */
export type ConsoleConfErrorKind =
  | SsoKeysErrorKind
  /** the --config file is unreadable, not JSON/YAML, or has unknown keys */
  | 'invalid-config'
  /** the first-boot file is malformed */
  | 'invalid-first-boot'
  /** what the user typed on the identity screen is not an email, gh:USER or lp:USER */
  | 'invalid-identity'
  /** a username from the network or config breaks the naming rule */
  | 'invalid-username'
  /** the username is taken by an existing system user */
  | 'user-exists'
  /** an SSH key line is not a single-line public key of a known type */
  | 'invalid-ssh-key'
  /** the account or key source has no usable SSH keys */
  | 'no-ssh-keys'
  /** GitHub or Launchpad could not be reached or knows no such user */
  | 'key-source-failed'
  /** a static address, gateway or DNS server is not valid */
  | 'invalid-network'
  /** writing or applying the network configuration failed */
  | 'network-failed'
  /** a path would leave the root directory */
  | 'path-escape'
  /** a path console-conf writes under the root is a symlink, a user database file is not a regular file within its limit, or an existing home or .ssh is not the new user's own directory */
  | 'unsafe-path'
  /** a key source sent more SSH keys, longer key lines or a bigger reply than console-conf accepts */
  | 'key-limit'
  /** the journal of an interrupted creation is not one console-conf could have written */
  | 'invalid-journal'
  /** the root (or a file under it) cannot be written, e.g. read-only */
  | 'write-failed'
  /** the user database is locked by another process */
  | 'db-locked'
  /** snapd refused or failed the request */
  | 'snapd-failed'
  /** the requested operation needs a backend that is not in use */
  | 'unsupported';

/** Shorthand constructor for console-conf errors. */
export function ccError(kind: ConsoleConfErrorKind, message: string): CoreforgeError<ConsoleConfErrorKind> {
  return new CoreforgeError(kind, message);
}

export { CoreforgeError, isCoreforgeError } from '../common/errors.js';
