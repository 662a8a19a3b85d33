// The local store served over HTTP with the real services' paths and shapes:
// the API (snapd's /v2/snaps/refresh, /v2/assertions, downloads), the SSO
// (macaroon discharge, SSH key lookup) and the dashboard (acl, account,
// account-key). Its own express app: the daemon's API never sees it.
import express, { type NextFunction, type Request, type Response } from 'express';
import { encodeAssertion } from '../../asserts/index.js';
import { isCoreforgeError } from '../../errors.js';
import type { StoreErrorKind } from '../errors.js';
import type { LocalStore, StoreRevision } from '../local/store.js';
import { MacaroonAuth, permissionPattern } from './auth.js';
import { sendFileRange } from './send-range.js';
import { clientKey, FailureThrottle, type ThrottleLimit } from './throttle.js';

export interface StoreServerOptions {
  store: LocalStore;
  /** how long an SSO discharge is good for (default 1 day) */
  dischargeTtlMs?: number;
  /** how long after expiring a discharge can still be refreshed (default 30 days); later, log in again */
  refreshWindowMs?: number;
  /** failed logins allowed per account (email) and per client address before the SSO refuses logins for a while */
  loginLimits?: { account: ThrottleLimit; client: ThrottleLimit };
  now?: () => Date;
  log?: (line: string) => void;
}

/** Failed logins allowed before the SSO makes the caller wait: 5 an account and 20 an address, each in 15 minutes. */
export const defaultLoginLimits = {
  account: { failures: 5, windowMs: 15 * 60_000 },
  client: { failures: 20, windowMs: 15 * 60_000 },
} as const satisfies StoreServerOptions['loginLimits'];

/** Request bodies: snapd's refresh request lists every installed snap, the SSO and dashboard requests are a few macaroons or an assertion. */
export const bodyLimits = { refresh: 1 << 20, other: 64 << 10 } as const;

/** Actions in one POST /v2/snaps/refresh. */
export const maxRefreshActions = 1000;

type Handler = (req: Request, res: Response) => Promise<void> | void;

const wrap = (h: Handler) => (req: Request, res: Response, next: NextFunction) => {
  Promise.resolve(h(req, res)).catch(next);
};

/** The error body of a path, in the shape of the real service it imitates: SSO `{code, message, extra}`, dashboard `error_list`, API `error-list`. */
function errorBody(path: string, status: number, code: string, message: string): unknown {
  if (path.startsWith('/api/v2/')) {
    const sso = status === 413 ? 'REQUEST_TOO_LARGE' : status === 404 ? 'NOT_FOUND' : status === 429 ? 'TOO_MANY_REQUESTS' : status >= 500 ? 'INTERNAL_ERROR' : 'INVALID_DATA';
    return { code: sso, message, extra: {} };
  }
  if (path.startsWith('/dev/api/')) return { error_list: [{ code, message }] };
  return { 'error-list': [{ code, message }] };
}

const sendError = (req: Request, res: Response, status: number, code: string, message: string) => {
  res.status(status).json(errorBody(req.path, status, code, message));
};

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const kib = (n: number) => (n >= 1 << 20 ? `${n / (1 << 20)} MiB` : `${n / 1024} KiB`);

const baseUrl = (req: Request) => `${req.protocol}://${req.get('host') ?? '127.0.0.1'}`;

/** Parses a single `bytes=` range against a size; null when absent, 'bad' when unsatisfiable. */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | null | 'bad' {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return null; // multi-range or junk: serve the whole file, as RFC 9110 allows
  let start: number;
  let end: number;
  if (m[1] === '') {
    start = Math.max(0, size - Number(m[2]));
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  return start >= size || start > end ? 'bad' : { start, end };
}

/** Sends a blob (or one range of it) in 1 MiB reads and writes: fewer, larger writes than express's sendFile. */
async function sendBlob(req: Request, res: Response, path: string, size: number): Promise<void> {
  const range = parseRange(req.get('range'), size);
  res.set('Accept-Ranges', 'bytes');
  res.set('Content-Type', 'application/octet-stream');
  if (range === 'bad') {
    res.status(416).set('Content-Range', `bytes */${size}`).end();
    return;
  }
  const { start, end } = range ?? { start: 0, end: size - 1 };
  if (range) res.status(206).set('Content-Range', `bytes ${start}-${end}/${size}`);
  res.set('Content-Length', String(end - start + 1));
  if (req.method === 'HEAD' || size === 0) {
    res.end();
    return;
  }
  await sendFileRange(res, path, start, end);
}

/** The download path of a revision (the real store's shape: SNAPID_REV.snap). */
export function downloadPath(snapId: string, revision: number): string {
  return `/api/v1/snaps/download/${snapId}_${revision}.snap`;
}

/** The `snap` object of a refresh result (snapd's storeSnap, store/details.go). */
function storeSnap(req: Request, r: StoreRevision, publisher: { id: string; username: string }) {
  return {
    architectures: r.architectures,
    base: r.base,
    confinement: r.confinement,
    contact: '',
    'created-at': r.created,
    description: r.summary,
    // The refresh API gives the digest in hex (snapd compares it with its own hex); assertions use base64url.
    download: { 'sha3-384': Buffer.from(r.sha3_384, 'base64url').toString('hex'), size: r.size, url: `${baseUrl(req)}${downloadPath(r.snapId, r.revision)}`, deltas: [] },
    epoch: { read: [0], write: [0] },
    license: '',
    name: r.name,
    prices: {},
    private: false,
    publisher: { id: publisher.id, username: publisher.username, 'display-name': publisher.username, validation: 'verified' },
    revision: r.revision,
    'snap-id': r.snapId,
    summary: r.summary,
    title: r.name,
    type: r.type,
    version: r.version,
    website: '',
    'store-url': '',
    media: [],
    'common-ids': [],
    categories: [],
  };
}

const ssoCodes: Partial<Record<StoreErrorKind, [number, string]>> = {
  'invalid-credentials': [401, 'INVALID_CREDENTIALS'],
  'otp-required': [401, 'TWOFACTOR_REQUIRED'],
};

/** A duration for messages: "15 minutes", "90 seconds". */
const duration = (ms: number) => (ms % 60_000 === 0 ? `${ms / 60_000} minute${ms === 60_000 ? '' : 's'}` : `${Math.ceil(ms / 1000)} seconds`);

/** An email (or what a client sent as one) for messages: quoted, cut short. */
const quoteEmail = (email: string) => JSON.stringify(email.length > 254 ? `${email.slice(0, 251)}...` : email);

/** Builds the store's express app. */
export async function createStoreApp(options: StoreServerOptions): Promise<express.Express> {
  const { store } = options;
  const now = options.now ?? (() => new Date());
  const auth = new MacaroonAuth({
    dashboardKey: await store.serviceSecret('dashboard-macaroon'),
    ssoKey: await store.serviceSecret('sso-caveat'),
    identityKey: await store.serviceSecret('sso-identity'),
    dashboardLocation: 'coreforge-local-dashboard',
    // snapd and snapcraft look for the login caveat by this location (store/auth.go authLocation)
    ssoLocation: 'login.ubuntu.com',
    dischargeTtlMs: options.dischargeTtlMs ?? 24 * 3600_000,
    now,
  });
  const limits = options.loginLimits ?? defaultLoginLimits;
  const throttle = new FailureThrottle(() => now().getTime());
  const identity = await store.identity();
  const publisher = { id: identity.accountId, username: 'local-store' };

  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  const limitOf = (path: string) => (path === '/v2/snaps/refresh' ? bodyLimits.refresh : bodyLimits.other);
  const refreshJson = express.json({ limit: bodyLimits.refresh, type: () => true });
  const otherJson = express.json({ limit: bodyLimits.other, type: () => true });
  app.use((req, res, next) => (limitOf(req.path) === bodyLimits.refresh ? refreshJson : otherJson)(req, res, next));

  // ---- API (api.snapcraft.io) ----
  app.post('/v2/snaps/refresh', wrap(async (req, res) => {
    const body: unknown = req.body;
    const bad = (message: string) => sendError(req, res, 400, 'invalid-request', `cannot read the refresh request: ${message}`);
    if (!isObject(body) || !Array.isArray(body.actions)) {
      bad('"actions" must be a list of action objects; send {"context": [...], "actions": [...]}');
      return;
    }
    const actions = body.actions as unknown[];
    if (actions.length > maxRefreshActions) {
      bad(`it has ${actions.length} actions, more than ${maxRefreshActions}; split it into several requests`);
      return;
    }
    const notObject = actions.findIndex((a) => !isObject(a));
    if (notObject >= 0) {
      bad(`"actions[${notObject}]" must be an object such as {"action": "download", "name": "NAME"}`);
      return;
    }
    if (body.context !== undefined && body.context !== null && !(Array.isArray(body.context) && body.context.every(isObject))) {
      bad('"context" must be a list of objects (one per installed snap)');
      return;
    }
    const arch = req.get('Snap-Device-Architecture') ?? 'amd64';
    const context = Array.isArray(body.context) ? (body.context as Record<string, unknown>[]) : [];
    const results: unknown[] = [];
    for (const raw of actions as Record<string, unknown>[]) {
      const action = String(raw.action ?? '');
      const instanceKey = String(raw['instance-key'] ?? '');
      const errorResult = (code: string, message: string, extra: Record<string, unknown> = {}) =>
        results.push({ result: 'error', 'instance-key': instanceKey, name: raw.name ?? '', 'snap-id': raw['snap-id'] ?? '', error: { code, message, extra } });
      let name = typeof raw.name === 'string' ? raw.name : undefined;
      let channel = typeof raw.channel === 'string' && raw.channel !== '' ? raw.channel : undefined;
      if (action === 'refresh') {
        const ctx = context.find((c) => c['snap-id'] === raw['snap-id'] && (c['instance-key'] ?? instanceKey) === instanceKey);
        const snap = (await store.list()).find((s) => s.snapId === raw['snap-id']);
        if (!snap) {
          errorResult('id-not-found', 'No snap with the given snap-id');
          continue;
        }
        name = snap.name;
        channel ??= typeof ctx?.['tracking-channel'] === 'string' ? (ctx['tracking-channel'] as string) : 'stable';
      } else if (action !== 'download' && action !== 'install') {
        errorResult('invalid-action', `unsupported action ${JSON.stringify(action)}`);
        continue;
      }
      if (!name) {
        errorResult('name-not-found', 'Name is required');
        continue;
      }
      channel ??= 'stable';
      try {
        const r = Number.isSafeInteger(raw.revision) && (raw.revision as number) > 0 ? await store.revision(name, raw.revision as number) : await store.resolve(name, channel, arch);
        results.push({
          result: action,
          'instance-key': instanceKey,
          'snap-id': r.snapId,
          name: r.name,
          'effective-channel': channel.includes('/') ? channel : `latest/${channel}`,
          snap: storeSnap(req, r, publisher),
        });
      } catch (err) {
        if (!isCoreforgeError(err)) throw err;
        if (err.kind === 'snap-not-found') errorResult('name-not-found', 'No snap named ' + JSON.stringify(name) + ' found');
        else {
          const snap = (await store.list()).find((s) => s.name === name);
          const releases = snap ? Object.entries(snap.channels).flatMap(([ch, archs]) => Object.keys(archs).map((a) => ({ architecture: a, channel: ch }))) : [];
          errorResult('revision-not-found', err.message, { releases });
        }
      }
    }
    res.json({ results, 'error-list': [] });
  }));

  app.get('/v2/assertions/:type/*pk', wrap(async (req, res) => {
    // the router has decoded each segment once already
    const pk = (req.params as unknown as { pk: string[] }).pk;
    const a = await store.findAssertion(req.params.type as string, pk);
    if (!a) {
      res.status(404).type('application/problem+json').send(JSON.stringify({ 'error-list': [{ code: 'not-found', message: 'not found' }] }));
      return;
    }
    res.type('application/x.ubuntu.assertion').send(encodeAssertion(a));
  }));

  app.get('/api/v1/snaps/download/:file', wrap(async (req, res) => {
    const m = /^([A-Za-z0-9]{32})_(\d{1,9})\.snap$/.exec(req.params.file as string);
    const rev = m ? await store.revisionById(m[1]!, Number(m[2])) : undefined;
    if (!rev) {
      res.status(404).json({ 'error-list': [{ code: 'not-found', message: 'no such snap revision' }] });
      return;
    }
    await sendBlob(req, res, store.blobPath(rev.sha3_384), rev.size);
  }));

  // ---- SSO (login.ubuntu.com) ----
  app.post('/api/v2/tokens/discharge', wrap(async (req, res) => {
    const b = isObject(req.body) ? req.body : {};
    const wrong: string[] = ['email', 'password', 'caveat_id'].filter((k) => typeof b[k] !== 'string');
    if (b.otp !== undefined && b.otp !== null && typeof b.otp !== 'string') wrong.push('otp');
    if (wrong.length > 0) {
      res.status(400).json({
        code: 'INVALID_DATA',
        message: `cannot log in: ${wrong.map((k) => `"${k}"`).join(', ')} must be ${wrong.length > 1 ? 'strings' : 'a string'}; send {"email", "password", "caveat_id"} (and "otp" when the account has 2-factor authentication)`,
        extra: Object.fromEntries(wrong.map((k) => [k, 'required'])),
      });
      return;
    }
    const email = b.email as string;
    const otp = typeof b.otp === 'string' && b.otp !== '' ? b.otp : undefined;
    if (!auth.isOurCaveat(b.caveat_id as string)) {
      res.status(400).json({ code: 'INVALID_DATA', message: 'cannot log in: "caveat_id" is not the SSO caveat of a root macaroon from this store; get a root macaroon from POST /dev/api/acl/ and send its caveat id', extra: { caveat_id: 'invalid' } });
      return;
    }
    const address = clientKey(req.socket.remoteAddress);
    const accountKey = `account ${email.trim().toLowerCase()}`;
    const keys: [string, ThrottleLimit][] = [[accountKey, limits.account], [`client ${address}`, limits.client]];
    const throttled = throttle.throttled(keys);
    if (throttled) {
      const secs = Math.max(1, Math.ceil(throttled.waitMs / 1000));
      const whose = throttled.key === accountKey ? 'for this account' : `from this address (${address})`;
      res.status(429).set('Retry-After', String(secs)).json({
        code: 'TOO_MANY_REQUESTS',
        message: `cannot log in as ${quoteEmail(email)}: ${throttled.limit.failures} failed logins ${whose} in the last ${duration(throttled.limit.windowMs)}; wait ${secs} seconds and try again`,
        extra: { retry_after: secs },
      });
      return;
    }
    // Counted as failed until it succeeds, so that parallel guesses cannot all pass the check above.
    const attempt = throttle.begin(keys);
    try {
      const account = await store.authenticate(email, b.password as string, otp);
      throttle.forgive(attempt);
      throttle.clear(accountKey);
      res.json({ discharge_macaroon: auth.discharge(b.caveat_id as string, account.accountId) });
    } catch (err) {
      const code = isCoreforgeError(err) ? ssoCodes[err.kind as StoreErrorKind] : undefined;
      if (!code || !isCoreforgeError(err)) {
        throttle.forgive(attempt);
        throw err;
      }
      const failure = err.kind === 'otp-required' && otp !== undefined;
      // a right password without a code is a step of the login, not a failure
      if (err.kind === 'otp-required' && !failure) throttle.forgive(attempt);
      res.status(failure ? 403 : code[0]).json({ code: failure ? 'TWOFACTOR_FAILURE' : code[1], message: err.message, extra: {} });
    }
  }));

  app.post('/api/v2/tokens/refresh', wrap(async (req, res) => {
    const d = isObject(req.body) ? req.body : {};
    if (typeof d.discharge_macaroon !== 'string') {
      res.status(400).json({ code: 'INVALID_DATA', message: 'cannot refresh the discharge macaroon: "discharge_macaroon" must be a string; send {"discharge_macaroon": "..."} as the SSO gave it', extra: { discharge_macaroon: 'required' } });
      return;
    }
    const refuse = (message: string) => res.status(401).json({ code: 'INVALID_DATA', message, extra: {} });
    const who = auth.refreshable(d.discharge_macaroon);
    if ('failure' in who) {
      refuse(who.message);
      return;
    }
    const window = options.refreshWindowMs ?? 30 * 24 * 3600_000;
    if (who.expires + window < now().getTime()) {
      refuse(`cannot refresh the discharge macaroon: it expired at ${new Date(who.expires).toISOString()}, more than ${duration(window)} ago; log in again`);
      return;
    }
    if (!(await store.account(who.accountId))) {
      refuse(`cannot refresh the discharge macaroon: its account ${JSON.stringify(who.accountId)} is no longer in the store; log in with another account`);
      return;
    }
    res.json({ discharge_macaroon: auth.discharge(who.caveatId, who.accountId, who.restrictions) });
  }));

  app.get('/api/v2/keys/:email', wrap(async (req, res) => {
    const a = await store.accountByEmail(req.params.email as string);
    if (!a) {
      res.status(404).json({ code: 'NOT_FOUND', message: 'No account with that email', extra: {} });
      return;
    }
    res.json({ username: a.username, ssh_keys: a.sshKeys, openid_identifier: `${baseUrl(req)}/+id/${a.accountId}` });
  }));

  // ---- dashboard (dashboard.snapcraft.io) ----
  app.post('/dev/api/acl/', wrap(async (req, res) => {
    const b: unknown = req.body ?? {};
    const perms: unknown = isObject(b) ? (b.permissions ?? ['package_access']) : undefined;
    if (!Array.isArray(perms) || perms.length === 0 || perms.length > 32 || !perms.every((p) => typeof p === 'string' && permissionPattern.test(p))) {
      sendError(req, res, 400, 'invalid-field', 'cannot issue a macaroon: "permissions" must be a list of 1 to 32 permission names (lowercase letters and "_", such as "package_access"); send {"permissions": ["package_access"]}');
      return;
    }
    res.json({ macaroon: auth.mintRoot(perms as string[]) });
  }));

  /** A dashboard route that needs a login with one of the `need` permissions (none: any login). */
  const authed = (need: readonly string[] | undefined, h: (req: Request, res: Response, accountId: string) => Promise<void>) =>
    wrap(async (req, res) => {
      const r = auth.check(req.get('authorization'), need);
      if ('failure' in r) {
        if (r.failure === 'expired') res.set('WWW-Authenticate', 'Macaroon needs_refresh=1');
        const forbidden = r.failure === 'forbidden';
        res.status(forbidden ? 403 : 401).json({ error_list: [{ code: forbidden ? 'macaroon-permission-required' : 'macaroon-authorization-required', message: r.message }] });
        return;
      }
      const account = await store.account(r.accountId);
      if (!account) {
        res.status(401).json({ error_list: [{ code: 'macaroon-authorization-required', message: `cannot authorize the request: its account ${JSON.stringify(r.accountId)} is no longer in the store; log in with another account` }] });
        return;
      }
      await h(req, res, r.accountId);
    });

  app.get('/dev/api/account', authed(undefined, async (_req, res, accountId) => {
    const a = (await store.account(accountId))!;
    const keys = await store.accountKeys(accountId);
    res.json({
      account_id: a.accountId,
      username: a.username,
      email: a.email,
      account_keys: keys.map((k) => ({ name: k.headers.name, 'public-key-sha3-384': k.headers['public-key-sha3-384'], since: k.headers.since })),
      snaps: {},
    });
  }));

  // snapcraft asks for modify_account_key to register keys; coreforge's client logs in with package_manage
  app.post('/dev/api/account/account-key', authed(['modify_account_key', 'package_manage'], async (req, res, accountId) => {
    const text = isObject(req.body) ? req.body.account_key_request : undefined;
    if (typeof text !== 'string') {
      sendError(req, res, 400, 'invalid-field', 'cannot register key: "account_key_request" must be the text of an account-key-request assertion; send {"account_key_request": "type: account-key-request\\n..."}');
      return;
    }
    try {
      const key = await store.registerAccountKey(accountId, text);
      res.json({ account_key: encodeAssertion(key) });
    } catch (err) {
      if (!isCoreforgeError(err)) throw err;
      res.status(err.kind === 'key-already-registered' ? 409 : 400).json({ error_list: [{ code: err.kind, message: err.message }] });
    }
  }));

  app.use((req: Request, res: Response) => {
    sendError(req, res, 404, 'not-found', `cannot find ${req.method} ${req.path}: no such endpoint on this store server`);
  });
  app.use((err: Error & { status?: number; type?: string; expose?: boolean; limit?: number }, req: Request, res: Response, _next: NextFunction) => {
    if (res.headersSent) {
      options.log?.(`store server error: ${err.stack ?? err.message}`);
      res.destroy();
      return;
    }
    const what = `${req.method} ${req.path}`;
    if (err.type === 'entity.too.large') {
      sendError(req, res, 413, 'request-too-large', `cannot read the request body of ${what}: it is larger than ${kib(err.limit ?? limitOf(req.path))}, the limit of this endpoint; send a smaller body`);
      return;
    }
    if (err.type === 'entity.parse.failed') {
      sendError(req, res, 400, 'invalid-json', `cannot read the request body of ${what}: it is not valid JSON (${err.message}); send a JSON object`);
      return;
    }
    if (err instanceof URIError) {
      sendError(req, res, 400, 'invalid-path', `cannot read the path of ${what}: it has a malformed percent-escape; write "%" as %25 and other bytes as %XX with two hex digits`);
      return;
    }
    if (typeof err.status === 'number' && err.status >= 400 && err.status < 500 && err.expose) {
      // the body parser's other refusals: unsupported encoding or charset, aborted request
      sendError(req, res, err.status, 'invalid-request', `cannot read the request to ${what}: ${err.message}; send a UTF-8 JSON body, plain or gzip/deflate/br`);
      return;
    }
    options.log?.(`store server error: ${err.stack ?? err.message}`);
    res.status(500).json(errorBody(req.path, 500, 'internal-error', 'internal error'));
  });
  return app;
}
