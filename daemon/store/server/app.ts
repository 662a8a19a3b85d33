// The local store served over HTTP with the real services' paths and shapes:
// the API (snapd's /v2/snaps/refresh, /v2/assertions, downloads), the SSO
// (macaroon discharge, SSH key lookup) and the dashboard (acl, account,
// account-key). Its own express app: the daemon's API never sees it.
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import express, { type NextFunction, type Request, type Response } from 'express';
import { encodeAssertion } from '../../asserts/index.js';
import { isCoreforgeError } from '../../errors.js';
import type { StoreErrorKind } from '../errors.js';
import type { LocalStore, StoreRevision } from '../local/store.js';
import { MacaroonAuth } from './auth.js';

export interface StoreServerOptions {
  store: LocalStore;
  /** how long an SSO discharge is good for (default 1 day) */
  dischargeTtlMs?: number;
  /** how long after expiring a discharge can still be refreshed (default 30 days); later, log in again */
  refreshWindowMs?: number;
  now?: () => Date;
  log?: (line: string) => void;
}

type Handler = (req: Request, res: Response) => Promise<void> | void;

const wrap = (h: Handler) => (req: Request, res: Response, next: NextFunction) => {
  Promise.resolve(h(req, res)).catch(next);
};

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

/** Streams a blob (or one range of it) in 1 MiB reads: fewer, larger writes than express's sendFile. */
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
  await pipeline(createReadStream(path, { start, end, highWaterMark: 1 << 20 }), res).catch((err: NodeJS.ErrnoException) => {
    // a client that goes away mid-download is normal; anything else is the server's problem
    if (err.code !== 'ERR_STREAM_PREMATURE_CLOSE' && err.code !== 'EPIPE' && err.code !== 'ECONNRESET') throw err;
  });
}

/** The download path of a revision (the real store's shape: SNAPID_REV.snap). */
export function downloadPath(snapId: string, revision: number): string {
  return `/api/v1/snaps/download/${snapId}_${revision}.snap`;
}

/** The `snap` object of a refresh result (snapd's storeSnap, store/details.go). */
function storeSnap(req: Request, r: StoreRevision, publisher: { id: string; username: string }) {
  return {
    architectures: r.architectures,
    base: r.base ?? '',
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

/** Builds the store's express app. */
export async function createStoreApp(options: StoreServerOptions): Promise<express.Express> {
  const { store } = options;
  const now = options.now ?? (() => new Date());
  const auth = new MacaroonAuth({
    dashboardKey: await store.serviceSecret('dashboard-macaroon'),
    ssoKey: await store.serviceSecret('sso-caveat'),
    dashboardLocation: 'coreforge-local-dashboard',
    // snapd and snapcraft look for the login caveat by this location (store/auth.go authLocation)
    ssoLocation: 'login.ubuntu.com',
    dischargeTtlMs: options.dischargeTtlMs ?? 24 * 3600_000,
    now,
  });
  const identity = await store.identity();
  const publisher = { id: identity.accountId, username: 'local-store' };

  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.use(express.json({ limit: '1mb', type: () => true }));

  // ---- API (api.snapcraft.io) ----
  app.post('/v2/snaps/refresh', wrap(async (req, res) => {
    const body = req.body as { actions?: unknown; context?: unknown };
    if (!body || !Array.isArray(body.actions)) {
      res.status(400).json({ 'error-list': [{ code: 'invalid-request', message: '"actions" must be a list' }] });
      return;
    }
    const arch = req.get('Snap-Device-Architecture') ?? 'amd64';
    const context = Array.isArray(body.context) ? (body.context as Record<string, unknown>[]) : [];
    const results: unknown[] = [];
    for (const raw of body.actions as Record<string, unknown>[]) {
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
        const r = typeof raw.revision === 'number' && raw.revision > 0 ? await store.revision(name, raw.revision) : await store.resolve(name, channel, arch);
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
    const pk = (req.params as unknown as { pk: string[] }).pk.map(decodeURIComponent);
    const a = await store.findAssertion(req.params.type as string, pk);
    if (!a) {
      res.status(404).type('application/problem+json').send(JSON.stringify({ 'error-list': [{ code: 'not-found', message: 'not found' }] }));
      return;
    }
    res.type('application/x.ubuntu.assertion').send(encodeAssertion(a));
  }));

  app.get('/api/v1/snaps/download/:file', wrap(async (req, res) => {
    const m = /^([A-Za-z0-9]{32})_(\d+)\.snap$/.exec(req.params.file as string);
    const rev = m ? await store.revisionById(m[1]!, Number(m[2])) : undefined;
    if (!rev) {
      res.status(404).json({ 'error-list': [{ code: 'not-found', message: 'no such snap revision' }] });
      return;
    }
    await sendBlob(req, res, store.blobPath(rev.sha3_384), rev.size);
  }));

  // ---- SSO (login.ubuntu.com) ----
  app.post('/api/v2/tokens/discharge', wrap(async (req, res) => {
    const b = (req.body ?? {}) as Record<string, unknown>;
    if (typeof b.email !== 'string' || typeof b.password !== 'string' || typeof b.caveat_id !== 'string') {
      res.status(400).json({ code: 'INVALID_DATA', message: 'Invalid request data', extra: { email: 'required', password: 'required', caveat_id: 'required' } });
      return;
    }
    try {
      const account = await store.authenticate(b.email, b.password, typeof b.otp === 'string' && b.otp !== '' ? b.otp : undefined);
      const discharge = auth.discharge(b.caveat_id, account.accountId);
      if (!discharge) {
        res.status(400).json({ code: 'INVALID_DATA', message: 'Invalid caveat id', extra: {} });
        return;
      }
      res.json({ discharge_macaroon: discharge });
    } catch (err) {
      const code = isCoreforgeError(err) ? ssoCodes[err.kind as StoreErrorKind] : undefined;
      if (!code || !isCoreforgeError(err)) throw err;
      const failure = err.kind === 'otp-required' && typeof b.otp === 'string' && b.otp !== '';
      res.status(failure ? 403 : code[0]).json({ code: failure ? 'TWOFACTOR_FAILURE' : code[1], message: err.message, extra: {} });
    }
  }));

  app.post('/api/v2/tokens/refresh', wrap(async (req, res) => {
    const d = (req.body ?? {}) as Record<string, unknown>;
    const who = typeof d.discharge_macaroon === 'string' ? auth.dischargeAccount(d.discharge_macaroon) : undefined;
    const window = options.refreshWindowMs ?? 30 * 24 * 3600_000;
    if (!who || who.expires.getTime() + window < now().getTime() || !(await store.account(who.accountId))) {
      res.status(401).json({ code: 'INVALID_DATA', message: 'The discharge macaroon cannot be refreshed; log in again', extra: {} });
      return;
    }
    res.json({ discharge_macaroon: auth.discharge(who.caveatId, who.accountId) });
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
    const b = (req.body ?? {}) as Record<string, unknown>;
    const perms = Array.isArray(b.permissions) ? b.permissions.map(String) : ['package_access'];
    res.json({ macaroon: auth.mintRoot(perms) });
  }));

  const authed = (h: (req: Request, res: Response, accountId: string) => Promise<void>) =>
    wrap(async (req, res) => {
      const r = auth.check(req.get('authorization'));
      if ('failure' in r) {
        if (r.failure === 'expired') res.set('WWW-Authenticate', 'Macaroon needs_refresh=1');
        res.status(401).json({ error_list: [{ code: 'macaroon-authorization-required', message: r.message }] });
        return;
      }
      const account = await store.account(r.accountId);
      if (!account) {
        res.status(401).json({ error_list: [{ code: 'macaroon-authorization-required', message: 'Invalid macaroon' }] });
        return;
      }
      await h(req, res, r.accountId);
    });

  app.get('/dev/api/account', authed(async (_req, res, accountId) => {
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

  app.post('/dev/api/account/account-key', authed(async (req, res, accountId) => {
    const text = (req.body as Record<string, unknown> | undefined)?.account_key_request;
    if (typeof text !== 'string') {
      res.status(400).json({ error_list: [{ code: 'invalid-field', message: '"account_key_request" is required' }] });
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
    res.status(404).json({ 'error-list': [{ code: 'not-found', message: `no such endpoint: ${req.method} ${req.path}` }] });
  });
  app.use((err: Error & { status?: number; type?: string }, _req: Request, res: Response, _next: NextFunction) => {
    if (err.type === 'entity.parse.failed') {
      res.status(400).json({ 'error-list': [{ code: 'invalid-json', message: 'the request body is not valid JSON' }] });
      return;
    }
    options.log?.(`store server error: ${err.stack ?? err.message}`);
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.status(500).json({ 'error-list': [{ code: 'internal-error', message: 'internal error' }] });
  });
  return app;
}
