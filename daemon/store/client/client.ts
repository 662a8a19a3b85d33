// The store client: login (dashboard root macaroon + SSO discharge), account,
// key registration, snap resolution and download, assertions with their
// prerequisites, SSH key lookup. Works against the real services or the local
// store server; URLs are given, nothing is read from the environment.
import { decodeAssertion, decodeStream, type Assertion } from '../../asserts/index.js';
import { storeError } from '../errors.js';
import { deserializeMacaroon, authorizationHeader, thirdPartyCaveatId } from '../macaroons.js';
import { lookupSsoKeys, type SsoAccountKeys } from '../../../common/sso-keys.js';
import { CredentialsFile, type Credentials } from './credentials.js';
import { downloadSnap, SnapCache, type DownloadProgress, type DownloadResult } from './download.js';
import { defaultRetry, expectObject, storeMessage, storeRequest, type RetryPolicy, type StoreReply } from './http.js';

export const defaultApiUrl = 'https://api.snapcraft.io';
export const defaultDashboardUrl = 'https://dashboard.snapcraft.io';
export { DEFAULT_SSO_URL as defaultSsoUrl } from '../../../common/sso-keys.js';

export interface StoreClientOptions {
  apiUrl: string;
  ssoUrl: string;
  dashboardUrl: string;
  /** STATE/store-credentials.json */
  credentialsPath: string;
  /** STATE/cache */
  cacheDir: string;
  /** default 8 GiB */
  cacheLimitBytes?: number;
  /** Snap-Device-Series (default 16) */
  series?: string;
  /** Snap-Device-Store, for brand stores */
  storeId?: string;
  retry?: RetryPolicy;
}

/** The logged-in account as the dashboard describes it. */
export interface StoreAccountInfo {
  accountId: string;
  username: string;
  email: string;
  /** SHA3-384 ids and names of the registered keys */
  accountKeys: { name: string; 'public-key-sha3-384': string }[];
}

/** A snap revision chosen by the store for a name, channel and architecture (a SnapSource's resolve result). */
export interface ResolvedSnap {
  name: string;
  'snap-id': string;
  revision: number;
  'sha3-384': string;
  size: number;
  url: string;
  version: string;
  type: string;
  architectures: string[];
  channel: string;
}

/** The store client. */
export class StoreClient {
  readonly cache: SnapCache;
  private readonly creds: CredentialsFile;
  private readonly retry: RetryPolicy;

  constructor(
    private readonly o: StoreClientOptions,
    cache?: SnapCache,
  ) {
    this.cache = cache ?? new SnapCache(o.cacheDir, o.cacheLimitBytes ?? 8 * 2 ** 30);
    this.creds = new CredentialsFile(o.credentialsPath);
    this.retry = o.retry ?? defaultRetry;
  }

  /** The same client (store, cache) with another store login: each user of the daemon logs in as itself. */
  withLogin(credentialsPath: string): StoreClient {
    return new StoreClient({ ...this.o, credentialsPath }, this.cache);
  }

  private url(base: string, path: string): string {
    return `${base.replace(/\/+$/, '')}${path}`;
  }

  /** Logs in: root macaroon from the dashboard, discharged by the SSO with email, password and one-time code. */
  async login(email: string, password: string, otp?: string): Promise<StoreAccountInfo> {
    const aclUrl = this.url(this.o.dashboardUrl, '/dev/api/acl/');
    const acl = await storeRequest(aclUrl, { body: { permissions: ['package_access', 'package_manage', 'package_upload'] } }, this.retry);
    if (acl.status !== 200) throw this.replyError(acl, aclUrl, `cannot log in as ${JSON.stringify(email)}`);
    const root = expectObject(acl, aclUrl).macaroon;
    if (typeof root !== 'string') throw badReply(aclUrl, '"macaroon" is missing');
    let caveatId: string | undefined;
    try {
      const m = deserializeMacaroon(root);
      // the SSO's caveat is the one located at login.ubuntu.com (snapd's loginCaveatID); else the only one
      caveatId = thirdPartyCaveatId(m, 'login.ubuntu.com') ?? thirdPartyCaveatId(m);
    } catch {
      throw badReply(aclUrl, '"macaroon" is not a macaroon');
    }
    if (!caveatId) throw badReply(aclUrl, 'the macaroon has no caveat for the SSO');
    const dUrl = this.url(this.o.ssoUrl, '/api/v2/tokens/discharge');
    const reply = await storeRequest(dUrl, { body: { email, password, caveat_id: caveatId, ...(otp ? { otp } : {}) } }, this.retry);
    const who = JSON.stringify(email);
    if (reply.status !== 200) {
      const code = storeMessage(reply.json)?.code;
      if (code === 'INVALID_CREDENTIALS') throw storeError('invalid-credentials', `cannot log in as ${who}: the email or password is not correct; check them and try again`);
      if (code === 'TWOFACTOR_REQUIRED') throw storeError('otp-required', `cannot log in as ${who}: this account needs a one-time code (2-factor authentication); type the code from your authenticator`);
      if (code === 'TWOFACTOR_FAILURE') throw storeError('otp-required', `cannot log in as ${who}: the one-time code is not correct; type the current code from your authenticator`);
      if (reply.status === 429) {
        const wait = Number(reply.headers.get('retry-after'));
        const after = Number.isFinite(wait) && wait > 0 ? `wait ${wait} seconds` : 'wait a while';
        throw storeError('login-throttled', `cannot log in as ${who}: the store refuses logins for now after too many failed ones; ${after} and try again`, Number.isFinite(wait) ? { retryAfter: wait } : undefined);
      }
      throw this.replyError(reply, dUrl, `cannot log in as ${who}`);
    }
    const discharge = expectObject(reply, dUrl).discharge_macaroon;
    if (typeof discharge !== 'string') throw badReply(dUrl, '"discharge_macaroon" is missing');
    const account = await this.fetchAccount({ email, root, discharge });
    await this.creds.save({ email, root, discharge, accountId: account.accountId });
    return account;
  }

  /** Forgets the login; false when there was none. */
  logout(): Promise<boolean> {
    return this.creds.remove();
  }

  /** The stored login, or login-required. */
  private async credentials(what: string): Promise<Credentials> {
    const c = await this.creds.load();
    if (!c) throw storeError('login-required', `cannot ${what}: not logged in to the store; run \`coreforge login EMAIL\` first`);
    return c;
  }

  /** A dashboard request with the login; refreshes an expired discharge once, then asks to log in again. */
  private async authed(path: string, what: string, body?: unknown): Promise<{ reply: StoreReply; url: string }> {
    const url = this.url(this.o.dashboardUrl, path);
    let c = await this.credentials(what);
    for (let refreshed = false; ; refreshed = true) {
      const reply = await storeRequest(url, { headers: { authorization: authorizationHeader(c.root, c.discharge) }, ...(body !== undefined ? { body } : {}) }, this.retry);
      if (reply.status !== 401) return { reply, url };
      const needsRefresh = /needs_refresh=1/.test(reply.headers.get('www-authenticate') ?? '');
      if (!needsRefresh || refreshed) break;
      const rUrl = this.url(this.o.ssoUrl, '/api/v2/tokens/refresh');
      const r = await storeRequest(rUrl, { body: { discharge_macaroon: c.discharge } }, this.retry);
      const d = r.status === 200 ? expectObject(r, rUrl).discharge_macaroon : undefined;
      if (typeof d !== 'string') break;
      c = { ...c, discharge: d };
      await this.creds.save(c);
    }
    throw storeError('login-expired', `cannot ${what}: the store login of ${JSON.stringify(c.email)} has expired or was revoked; run \`coreforge login ${c.email}\` again`);
  }

  private async fetchAccount(c: Pick<Credentials, 'email' | 'root' | 'discharge'>): Promise<StoreAccountInfo> {
    const url = this.url(this.o.dashboardUrl, '/dev/api/account');
    const reply = await storeRequest(url, { headers: { authorization: authorizationHeader(c.root, c.discharge) } }, this.retry);
    if (reply.status !== 200) throw this.replyError(reply, url, `cannot log in as ${JSON.stringify(c.email)}`);
    return parseAccount(reply, url);
  }

  /** The logged-in account (GET /dev/api/account). */
  async account(): Promise<StoreAccountInfo> {
    const { reply, url } = await this.authed('/dev/api/account', 'get the store account');
    if (reply.status !== 200) throw this.replyError(reply, url, 'cannot get the store account');
    return parseAccount(reply, url);
  }

  /** The email of the stored login, if any (no network). */
  async loggedInEmail(): Promise<string | undefined> {
    return (await this.creds.load())?.email;
  }

  /** The email and account id of the stored login, if any (no network). */
  async loggedIn(): Promise<{ email: string; accountId: string } | undefined> {
    const c = await this.creds.load();
    return c ? { email: c.email, accountId: c.accountId } : undefined;
  }

  /** Registers a key: posts the account-key-request, then fetches the issued account-key from the assertion service. */
  async registerKey(accountKeyRequest: string): Promise<Assertion> {
    const req = decodeAssertion(accountKeyRequest);
    const keyId = String(req.headers['public-key-sha3-384']);
    const name = String(req.headers.name);
    const what = `register key ${JSON.stringify(name)}`;
    const { reply, url } = await this.authed('/dev/api/account/account-key', what, { account_key_request: accountKeyRequest });
    if (reply.status === 409) throw storeError('key-already-registered', `cannot ${what}: ${storeMessage(reply.json)?.message.replace(/^cannot register key "[^"]*": /, '') ?? 'it is already registered'}`);
    if (reply.status !== 200) throw this.replyError(reply, url, `cannot ${what}`);
    const text = await this.assertion('account-key', [keyId]);
    return decodeAssertion(text);
  }

  /** One assertion's text from the assertion service. */
  async assertion(type: string, primaryKey: string[]): Promise<string> {
    const url = this.url(this.o.apiUrl, `/v2/assertions/${type}/${primaryKey.map(encodeURIComponent).join('/')}`);
    const reply = await storeRequest(url, { accept: 'application/x.ubuntu.assertion', headers: this.deviceHeaders() }, this.retry);
    if (reply.status === 404) throw storeError('store-assertion-not-found', `cannot find ${type} ${JSON.stringify(primaryKey.join('/'))} in the store at ${new URL(url).origin}`);
    if (reply.status !== 200) throw this.replyError(reply, url, `cannot fetch ${type} ${JSON.stringify(primaryKey.join('/'))}`);
    return reply.text;
  }

  /**
   * The prerequisites of an assertion, fetched from the store: the account-keys
   * that sign it and the accounts they and it name, up to a self-signed root or
   * a key `known` reports (e.g. one the database already holds).
   */
  async prerequisites(a: Assertion, known: (type: string, key: string) => boolean = () => false, seen = new Set<string>()): Promise<Assertion[]> {
    const out: Assertion[] = [];
    const need = async (type: string, pk: string[]) => {
      const k = `${type}/${pk.join('/')}`;
      if (seen.has(k) || known(type, pk.join('/'))) return;
      seen.add(k);
      const got = decodeStream(await this.assertion(type, pk))[0]!;
      out.push(got, ...(await this.prerequisites(got, known, seen)));
    };
    if (a.type === 'account-key' && a.headers['account-id'] !== a.authorityId) await need('account', [String(a.headers['account-id'])]);
    if (a.type !== 'account-key' || a.signKeyId !== a.headers['public-key-sha3-384']) await need('account-key', [a.signKeyId]);
    if (a.authorityId && !(a.type === 'account' && a.headers['account-id'] === a.authorityId)) await need('account', [a.authorityId]);
    return out;
  }

  /** A snap's snap-revision and snap-declaration with their prerequisites (see prerequisites). */
  async snapAssertions(snap: Pick<ResolvedSnap, 'snap-id' | 'sha3-384'>, known: (type: string, key: string) => boolean = () => false): Promise<Assertion[]> {
    const seen = new Set<string>();
    const out: Assertion[] = [];
    for (const [type, pk] of [['snap-revision', [snap['sha3-384']]], ['snap-declaration', [this.o.series ?? '16', snap['snap-id']]]] as const) {
      const a = decodeStream(await this.assertion(type, [...pk]))[0]!;
      seen.add(`${type}/${pk.join('/')}`);
      out.push(a, ...(await this.prerequisites(a, known, seen)));
    }
    return out;
  }

  private deviceHeaders(arch?: string): Record<string, string> {
    return {
      'Snap-Device-Series': this.o.series ?? '16',
      ...(arch ? { 'Snap-Device-Architecture': arch } : {}),
      ...(this.o.storeId ? { 'Snap-Device-Store': this.o.storeId } : {}),
    };
  }

  /** Which revision a device of `arch` gets for name and channel (POST /v2/snaps/refresh, a download action). */
  async resolve(name: string, channel: string, arch: string, revision?: number): Promise<ResolvedSnap> {
    const url = this.url(this.o.apiUrl, '/v2/snaps/refresh');
    // snapd sends either a channel or a revision in a download action, not both
    const pick = revision !== undefined ? { revision } : { channel };
    const reply = await storeRequest(url, {
      headers: this.deviceHeaders(arch),
      body: { context: [], actions: [{ action: 'download', 'instance-key': 'download-1', name, ...pick }], fields: ['architectures', 'base', 'download', 'revision', 'snap-id', 'type', 'version'] },
    }, this.retry);
    if (reply.status !== 200) throw this.replyError(reply, url, `cannot find snap ${JSON.stringify(name)}`);
    const results = expectObject(reply, url).results;
    const r = Array.isArray(results) ? (results[0] as Record<string, unknown> | undefined) : undefined;
    if (!r) throw badReply(url, '"results" is empty');
    if (r.result === 'error') {
      const e = (r.error ?? {}) as { code?: string; message?: string; extra?: { releases?: { architecture: string; channel: string }[] } };
      if (e.code === 'name-not-found') throw storeError('snap-not-found', `cannot find snap ${JSON.stringify(name)} in the store at ${new URL(url).origin}; check the name`);
      if (e.code === 'revision-not-found') {
        const rel = e.extra?.releases ?? [];
        const archs = [...new Set(rel.map((x) => x.architecture))];
        if (rel.length > 0 && !archs.includes(arch) && !archs.includes('all')) {
          throw storeError('revision-not-found', `cannot find snap ${JSON.stringify(name)} for architecture ${arch}: it is only available for ${archs.join(', ')}`, { releases: rel });
        }
        if (revision !== undefined) throw storeError('revision-not-found', `cannot find revision ${revision} of snap ${JSON.stringify(name)} for ${arch} in the store at ${new URL(url).origin}; check the --revision`, { releases: rel });
        throw storeError('revision-not-found', `cannot find a revision of snap ${JSON.stringify(name)} in channel ${JSON.stringify(channel)} for ${arch}${rel.length ? `; it is available in ${[...new Set(rel.map((x) => x.channel))].join(', ')}` : ''}`, { releases: rel });
      }
      throw storeError('store-error', `cannot find snap ${JSON.stringify(name)}: the store says ${e.message ?? e.code ?? 'unknown error'}`);
    }
    const s = r.snap as Record<string, unknown> | undefined;
    const d = s?.download as Record<string, unknown> | undefined;
    if (!s || !d || typeof d.url !== 'string' || typeof d['sha3-384'] !== 'string' || typeof d.size !== 'number' || typeof s.revision !== 'number') {
      throw badReply(url, 'the result has no snap download (url, sha3-384, size, revision)');
    }
    return {
      name,
      'snap-id': String(r['snap-id'] ?? s['snap-id']),
      revision: s.revision,
      // The refresh API sends hex; assertions and the cache key use base64url.
      'sha3-384': /^[0-9a-f]{96}$/.test(d['sha3-384']) ? Buffer.from(d['sha3-384'], 'hex').toString('base64url') : d['sha3-384'],
      size: d.size,
      url: d.url,
      version: String(s.version ?? ''),
      type: String(s.type ?? 'app'),
      architectures: Array.isArray(s.architectures) ? s.architectures.map(String) : [],
      channel: String(r['effective-channel'] ?? channel),
    };
  }

  /**
   * Downloads a resolved snap into the cache after checking that its
   * snap-revision (fetched from the store) agrees with the resolution.
   */
  async download(snap: ResolvedSnap, options: { progress?: DownloadProgress; signal?: AbortSignal } = {}): Promise<DownloadResult & { revision: Assertion }> {
    const rev = decodeAssertion(await this.assertion('snap-revision', [snap['sha3-384']]));
    if (rev.headers['snap-size'] !== String(snap.size) || rev.headers['snap-id'] !== snap['snap-id']) {
      throw storeError('digest-mismatch', `cannot download snap ${JSON.stringify(snap.name)}: the store's snap-revision (${rev.headers['snap-id']}, ${rev.headers['snap-size']} bytes) does not match what it resolved (${snap['snap-id']}, ${snap.size} bytes)`);
    }
    const result = await downloadSnap({ name: snap.name, url: snap.url, sha3_384: snap['sha3-384'], size: snap.size }, this.cache, { ...options, retry: this.retry });
    return { ...result, revision: rev };
  }

  /** An account's SSH keys from the SSO (what console-conf imports). */
  sshKeys(email: string): Promise<SsoAccountKeys> {
    return lookupSsoKeys(email, { baseUrl: this.o.ssoUrl });
  }

  private replyError(reply: StoreReply, url: string, what: string) {
    const m = storeMessage(reply.json);
    return storeError('store-error', `${what}: the store at ${new URL(url).origin} answered ${reply.status}${m ? `: ${m.message}` : ''}`);
  }
}

function badReply(url: string, why: string) {
  return storeError('bad-store-reply', `cannot use the reply of ${new URL(url).origin} to ${new URL(url).pathname}: ${why}; check the store URL (--store-url, --sso-url, --dashboard-url)`);
}

function parseAccount(reply: StoreReply, url: string): StoreAccountInfo {
  const o = expectObject(reply, url);
  if (typeof o.account_id !== 'string') throw badReply(url, '"account_id" is missing');
  const keys = Array.isArray(o.account_keys) ? (o.account_keys as Record<string, unknown>[]) : [];
  return {
    accountId: o.account_id,
    username: String(o.username ?? ''),
    email: String(o.email ?? ''),
    accountKeys: keys.map((k) => ({ name: String(k.name ?? ''), 'public-key-sha3-384': String(k['public-key-sha3-384'] ?? '') })),
  };
}
