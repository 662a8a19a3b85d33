/** Fetching an identity's username and SSH keys from the store's SSO, GitHub or Launchpad. */
import { lookupSsoKeys } from '../common/sso-keys.js';
import { ccError, type CoreforgeError } from './errors.js';
import { BodyTooLarge, readCapped, type FetchFn } from './http-get.js';
import { describeOrigin, type IdentitySpec } from './identity-spec.js';
import { formatBytes, LIMITS } from './limits.js';
import { checkUsername } from './username.js';
import { checkKeyLimits, parseKeyLine, type PublicKey } from './ssh-key.js';

/** A validated owner: login name, keys and where they came from. */
export interface Identity {
  username: string;
  keys: PublicKey[];
  /** e.g. "store account a@b.c" */
  origin: string;
  /** the store email, written into the GECOS field */
  email?: string;
}

export interface KeySourceUrls {
  ssoUrl: string;
  githubUrl: string;
  launchpadUrl: string;
}

/** Looks up the identity and validates everything that came back. */
export async function resolveIdentity(
  spec: IdentitySpec,
  urls: KeySourceUrls,
  opts: { fetch?: FetchFn; username?: string; signal?: AbortSignal } = {},
): Promise<Identity> {
  const origin = describeOrigin(spec);
  let username: string;
  let lines: string[];
  if (spec.source === 'store') {
    const acct = await lookupStore(spec.email, origin, urls.ssoUrl, opts.fetch, opts.signal);
    username = acct.username;
    lines = acct.sshKeys;
  } else {
    const url =
      spec.source === 'github'
        ? `${urls.githubUrl}/users/${encodeURIComponent(spec.user)}/keys`
        : `${urls.launchpadUrl}/~${encodeURIComponent(spec.user)}/+sshkeys`;
    lines = await fetchKeyList(url, origin, opts.fetch, opts.signal);
    username = spec.user.toLowerCase();
  }
  username = checkUsername(opts.username ?? username);
  if (lines.length === 0) {
    throw ccError('no-ssh-keys', `cannot use ${origin}: it has no SSH keys; add a public key to the account and try again`);
  }
  checkKeyLimits(lines, origin);
  const keys = lines.map((l) => parseKeyLine(l, origin));
  return { username, keys, origin, email: spec.source === 'store' ? spec.email : undefined };
}

/** The error for a key source's reply over LIMITS.maxKeyReplyBytes. */
function replyTooLarge(url: string, origin: string, err: BodyTooLarge): CoreforgeError {
  const why =
    err.declared !== undefined
      ? `it announced ${err.declared} bytes, over the limit of ${formatBytes(err.limit)} for a key list, so it was not read`
      : `it ran over the limit of ${formatBytes(err.limit)} for a key list, so the rest was not read`;
  return ccError('key-limit', `cannot use the reply from ${url} for ${origin}: ${why}; check that the URL is a key server, or remove the keys you do not use at the source`);
}

/**
 * The SSO lookup with its reply capped: the shared lookup reads the body
 * through text(), which here stops at the cap; the lookup then reports a
 * transport error, replaced by the clearer one recorded on the way.
 */
async function lookupStore(email: string, origin: string, ssoUrl: string, fetchFn: FetchFn | undefined, signal?: AbortSignal) {
  const doFetch: FetchFn = fetchFn ?? (globalThis.fetch as unknown as FetchFn);
  let tooLarge: CoreforgeError | undefined;
  const capped: FetchFn = async (url, init) => {
    const res = await doFetch(url, init);
    return {
      status: res.status,
      text: () =>
        readCapped(res, LIMITS.maxKeyReplyBytes).catch((err: unknown) => {
          if (err instanceof BodyTooLarge) tooLarge = replyTooLarge(url, origin, err);
          throw err;
        }),
    };
  };
  try {
    return await lookupSsoKeys(email, { baseUrl: ssoUrl, fetch: capped, signal });
  } catch (err) {
    throw tooLarge ?? err;
  }
}

/** GETs a key list: a JSON list of {key} objects (GitHub API) or one key per line (github.com/USER.keys, Launchpad). */
async function fetchKeyList(url: string, origin: string, fetchFn: FetchFn | undefined, signal?: AbortSignal): Promise<string[]> {
  const doFetch: FetchFn = fetchFn ?? (globalThis.fetch as unknown as FetchFn);
  const timeout = AbortSignal.timeout(10_000);
  let status: number;
  let body: string;
  try {
    const res = await doFetch(url, { signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
    status = res.status;
    body = await readCapped(res, LIMITS.maxKeyReplyBytes);
  } catch (err) {
    if (err instanceof BodyTooLarge) throw replyTooLarge(url, origin, err);
    const code = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
    throw ccError('key-source-failed', `cannot reach ${url} to get the keys of ${origin}: ${code}; check the network and try again`);
  }
  if (status === 404) throw ccError('key-source-failed', `cannot find ${origin}: ${url} answered 404; check the username`);
  if (status !== 200) throw ccError('key-source-failed', `cannot get the keys of ${origin}: ${url} answered ${status}; try again later`);
  if (body.trimStart().startsWith('[')) {
    let v: unknown;
    try {
      v = JSON.parse(body);
    } catch {
      throw ccError('key-source-failed', `cannot read the keys of ${origin}: the reply from ${url} is not valid JSON; try again later`);
    }
    if (!Array.isArray(v) || !v.every((e) => typeof e === 'object' && e !== null && typeof (e as { key?: unknown }).key === 'string')) {
      throw ccError('key-source-failed', `cannot read the keys of ${origin}: the reply from ${url} is not a list of {"key": ...}; try again later`);
    }
    return v.map((e) => (e as { key: string }).key);
  }
  return body
    .split('\n')
    .map((l) => l.replace(/\r$/, ''))
    .filter((l) => l.trim() !== '');
}
