/** Request and response shapes of the keys, sign and assertions endpoints (re-exported by types.ts). */
export type { AssertionVerdict } from '../asserts-db/verify.js';

/** One key of the keyring, as `GET /v1/keys` lists it. */
export interface KeyInfo {
  name: string;
  /** the SHA3-384 key id, as `snap keys` shows it */
  'sha3-384': string;
  /** when the key was added to this keyring */
  created: string;
  /** true when the logged-in store account has this key registered (GET /v1/keys only) */
  registered?: boolean;
}

/** `POST /v1/keys` {action: "create"}: answered with a change (task kind create-key). */
export interface CreateKeyRequest {
  action: 'create';
  /** default "default" */
  name?: string;
  passphrase: string;
}

/** `POST /v1/keys` {action: "import"}: from armored text, or from a gnupg home through gpg. */
export interface ImportKeyRequest {
  action: 'import';
  name: string;
  /** unlocks the source key when it is encrypted, and encrypts the stored copy */
  passphrase: string;
  armored?: string;
  'gnupg-home'?: string;
  /** the key's name (user id) or fingerprint in that gnupg home; default: name */
  'gnupg-name'?: string;
}

/** `GET /v1/keys/{name}?format=...&account-id=...` */
export type KeyExportFormat = 'public-key' | 'account-key-request';

export interface KeyExport extends KeyInfo {
  format: KeyExportFormat;
  /** the account-key body form (0x01 + packet, base64), or the account-key-request text */
  text: string;
}

/** `DELETE /v1/keys/{name}` body, and the body of `GET ...?format=account-key-request`. */
export interface KeyPassphraseRequest {
  passphrase: string;
}

/** `POST /v1/sign` */
export interface SignRequest {
  /** key name, default "default" */
  key?: string;
  passphrase: string;
  /** the JSON statement, as text (exactly what `snap sign` reads) */
  statement: string;
  'update-timestamp'?: boolean;
  /** append the signing account-key and its account from the database */
  chain?: boolean;
}

export interface SignResult {
  /** the signed assertion (and chain), ready to write to a file */
  assertion: string;
  /** set when there was no account-key to cross-check the statement with, as `snap sign` warns */
  warning?: string;
}

/** `POST /v1/assertions/verify` */
export interface VerifyRequest {
  assertions: string;
  /** account-key (and account) assertions to trust as roots for this check only */
  trusted?: string;
  /**
   * more assertion texts to find signing keys and accounts in (the other files
   * of one `coreforge verify`); not verdicts themselves, and never trusted
   */
  lookup?: string[];
}

/** `POST /v1/assertions` */
export interface AddAssertionsRequest {
  assertions: string;
  /** store these account-keys/accounts as trusted roots, without a chain check */
  trusted?: boolean;
}

/** One stored assertion as the JSON listing shows it. */
export interface AssertionEntry {
  type: string;
  'primary-key': string[];
  revision: number;
  headers: Record<string, unknown>;
  text: string;
}

export interface AddAssertionsResult {
  /** what this call stored (older or equal revisions of stored ones are skipped, as `snap ack` does) */
  added: Omit<AssertionEntry, 'text' | 'headers'>[];
}
