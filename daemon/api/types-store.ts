// Request and response types of the store endpoints: login, account, key
// registration, and the embedded local store (/v1/store/...).

/** `POST /v1/login` body. */
export interface LoginRequest {
  email: string;
  password: string;
  /** the one-time code, when the account has 2-factor authentication */
  otp?: string;
}

/** `POST /v1/login`, `GET /v1/account` result. */
export interface StoreAccountResult {
  email: string;
  username: string;
  'account-id': string;
  /** names and SHA3-384 ids of the keys registered with the account */
  'account-keys': { name: string; 'public-key-sha3-384': string }[];
}

/** `POST /v1/logout` result. */
export interface LogoutResult {
  /** false when nobody was logged in */
  'logged-out': boolean;
}

/** `POST /v1/keys/{name}/register` body. */
export interface RegisterKeyRequest {
  passphrase: string;
}

/** `POST /v1/keys/{name}/register` result. */
export interface RegisterKeyResult {
  name: string;
  'sha3-384': string;
  'account-id': string;
  /** the account-key assertion the store issued (now in the assertion database) */
  'account-key': string;
}

/** `POST /v1/store/snaps` body: a .snap file on the daemon's host. */
export interface StoreAddRequest {
  path: string;
  /** TRACK/RISK to release to, e.g. 18/stable */
  channel?: string;
}

/** One revision of a local store snap. */
export interface StoreRevisionInfo {
  name: string;
  'snap-id': string;
  revision: number;
  'sha3-384': string;
  size: number;
  version: string;
  type: string;
  architectures: string[];
  created: string;
}

/** `POST /v1/store/snaps` result. */
export interface StoreAddResult extends StoreRevisionInfo {
  /** false when the same file was already in the store */
  added: boolean;
  channels: string[];
}

/** `GET /v1/store/snaps` result item. */
export interface StoreSnapInfo {
  name: string;
  'snap-id': string;
  revisions: StoreRevisionInfo[];
  /** channel -> architecture -> revision */
  channels: Record<string, Record<string, number>>;
}

/** `POST /v1/store/snaps/{name}/release` body. */
export interface StoreReleaseRequest {
  revision: number;
  channel: string;
}

/** `POST /v1/store/snaps/{name}/release` result. */
export interface StoreReleaseResult {
  name: string;
  revision: number;
  channel: string;
}

/** `POST /v1/store/accounts` body. */
export interface StoreAccountAddRequest {
  email: string;
  username: string;
  /** OpenSSH public key lines */
  'ssh-keys': string[];
  /** the account's password for `coreforge login` (hashed by the daemon, never stored) */
  password?: string;
  /** a base32 TOTP secret, to require one-time codes at login */
  'otp-secret'?: string;
}

/** `GET /v1/store/accounts` result item. */
export interface StoreAccountInfo {
  'account-id': string;
  email: string;
  username: string;
  'ssh-keys': string[];
  'has-password': boolean;
  'has-otp': boolean;
  created: string;
}

/** `POST /v1/store/downloads` body: resolve and download a snap into the cache (async). */
export interface StoreDownloadRequest {
  name: string;
  channel?: string;
  architecture?: string;
}

/** Result of the store-download task (declared beside the task, daemon/store/download-task.ts). */
export type { StoreDownloadResult } from '../store/download-task.js';
