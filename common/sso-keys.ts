/**
 * Client for the SSO key lookup: `GET {base}/api/v2/keys/{email}` answers
 * `{"username": ..., "ssh_keys": [...], "openid_identifier": ...}` for a store
 * account (the shape snapd's store.UserInfo reads), 404 when there is none.
 * Pure HTTP: the fetch function and the base URL are injected.
 */
import { CoreforgeError } from './errors.js';

/** Error kinds of the SSO key lookup. */
export type SsoKeysErrorKind =
  /** the SSO has no account with that email (404) */
  | 'account-not-found'
  /** the SSO could not be reached, or answered with an unexpected status */
  | 'store-unreachable'
  /** the SSO answered 200 with a body that is not the documented shape */
  | 'bad-store-reply';

/** The account facts console-conf and `snap create-user` need. */
export interface SsoAccountKeys {
  username: string;
  sshKeys: string[];
  openidIdentifier: string;
}

export type FetchFn = (url: string, init?: { signal?: AbortSignal; headers?: Record<string, string> }) => Promise<{
  status: number;
  text(): Promise<string>;
}>;

export interface SsoKeysOptions {
  /** The SSO root, e.g. https://login.ubuntu.com (no /api/v2). */
  baseUrl: string;
  fetch?: FetchFn;
  /** Give up after this many milliseconds (default 10 s, as snapd). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export const DEFAULT_SSO_URL = 'https://login.ubuntu.com';

/** The URL the key lookup for one email goes to. */
export function ssoKeysUrl(baseUrl: string, email: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/api/v2/keys/${encodeURIComponent(email)}`;
}

/** Looks up a store account's username and SSH keys by email. */
export async function lookupSsoKeys(email: string, opts: SsoKeysOptions): Promise<SsoAccountKeys> {
  const url = ssoKeysUrl(opts.baseUrl, email);
  const doFetch: FetchFn = opts.fetch ?? (globalThis.fetch as unknown as FetchFn);
  const timeout = AbortSignal.timeout(opts.timeoutMs ?? 10_000);
  const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
  let status: number;
  let body: string;
  try {
    const res = await doFetch(url, { signal, headers: { accept: 'application/json' } });
    status = res.status;
    body = await res.text();
  } catch (err) {
    throw new CoreforgeError<SsoKeysErrorKind>(
      'store-unreachable',
      `cannot reach the store at ${opts.baseUrl} to look up "${email}": ${describeFetchError(err)}; check the network and try again`,
    );
  }
  if (status === 404) {
    throw new CoreforgeError<SsoKeysErrorKind>(
      'account-not-found',
      `cannot find a store account with the email "${email}": no account with that email; check the spelling or create an account at ${opts.baseUrl}`,
    );
  }
  if (status !== 200) {
    throw new CoreforgeError<SsoKeysErrorKind>(
      'store-unreachable',
      `cannot look up "${email}" in the store at ${opts.baseUrl}: it answered with status ${status}; try again later`,
    );
  }
  return parseSsoKeysReply(email, body);
}

/** Checks a 200 reply body against the documented shape. */
export function parseSsoKeysReply(email: string, body: string): SsoAccountKeys {
  const bad = (why: string) =>
    new CoreforgeError<SsoKeysErrorKind>(
      'bad-store-reply',
      `cannot use the store's reply for "${email}": ${why}; the store must answer {"username": ..., "ssh_keys": [...]}`,
    );
  let v: unknown;
  try {
    v = JSON.parse(body);
  } catch {
    throw bad('it is not valid JSON');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad('it is not a JSON object');
  const o = v as Record<string, unknown>;
  if (typeof o.username !== 'string') throw bad('"username" is missing or not a string');
  const keys = o.ssh_keys ?? [];
  if (!Array.isArray(keys) || !keys.every((k) => typeof k === 'string')) throw bad('"ssh_keys" is not a list of strings');
  const openid = o.openid_identifier ?? '';
  if (typeof openid !== 'string') throw bad('"openid_identifier" is not a string');
  return { username: o.username, sshKeys: keys as string[], openidIdentifier: openid };
}

function describeFetchError(err: unknown): string {
  if (err instanceof Error) {
    if (err.name === 'TimeoutError' || err.name === 'AbortError') return 'no answer in time';
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    if (cause?.code) return cause.code;
    return (cause?.message ?? err.message).toLowerCase();
  }
  return String(err);
}
