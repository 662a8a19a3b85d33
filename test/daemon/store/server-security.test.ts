// Attacks on the store server over HTTP on 127.0.0.1 (issue 12, findings 1
// and 10): identities forged with caveats, through refresh too; login
// guessing; oversized bodies, malformed escapes and malformed JSON on every
// route. Each attack is refused and leaves the victim's account unchanged.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { join } from 'node:path';
import macaroonLib from 'macaroon';
import { encodeAssertion, encodePublicKey, formatRFC3339, signAssertion, signerFromKeyObject, type Signer } from '../../../daemon/asserts/index.js';
import type { Database } from '../../../daemon/db/database.js';
import type { CoreforgeError } from '../../../daemon/errors.js';
import { StoreClient } from '../../../daemon/store/client/client.js';
import { authorizationHeader, deserializeMacaroon, serializeMacaroon, thirdPartyCaveatId } from '../../../daemon/store/macaroons.js';
import { hashPassword, totp } from '../../../daemon/store/local/secrets.js';
import type { LocalStore, StoreAccount } from '../../../daemon/store/local/store.js';
import { listenStore, type RunningStoreServer } from '../../../daemon/store/server/listen.js';
import { makeTempDir } from '../../helpers/tmp.js';
import { openLocalStore } from './helpers.js';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** the parsed body; any, as each test reads the shape it expects and asserts it */
  json: any;
}

/** One HTTP request from a chosen loopback address (the throttle keys on it); body: object (JSON), string or Buffer. */
function call(
  base: string,
  method: string,
  path: string,
  options: { body?: unknown; headers?: Record<string, string>; from?: string; chunked?: boolean } = {},
): Promise<Reply> {
  const url = new URL(base);
  const raw = options.body === undefined ? undefined : Buffer.isBuffer(options.body) ? options.body : Buffer.from(typeof options.body === 'string' ? options.body : JSON.stringify(options.body));
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        method,
        path,
        localAddress: options.from ?? '127.0.0.1',
        headers: {
          ...(raw ? { 'content-type': 'application/json', ...(options.chunked ? { 'transfer-encoding': 'chunked' } : { 'content-length': String(raw.length) }) } : {}),
          ...options.headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode!, headers: res.headers, text, json });
        });
      },
    );
    // the server may answer (413) and close before a large body is all sent
    req.on('error', (err: NodeJS.ErrnoException) => (err.code === 'EPIPE' || err.code === 'ECONNRESET' ? undefined : reject(err)));
    if (raw && options.chunked) {
      for (let i = 0; i < raw.length; i += 64 << 10) req.write(raw.subarray(i, i + (64 << 10)));
      req.end();
    } else req.end(raw);
  });
}

/** A macaroon with one more first-party caveat: what any holder can do. */
function withCaveat(serialized: string, condition: string): string {
  const m = deserializeMacaroon(serialized).clone();
  m.addFirstPartyCaveat(condition);
  return serializeMacaroon(m);
}

function keyRequest(signer: Signer, accountId: string, name: string): string {
  const since = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000);
  return encodeAssertion(
    signAssertion('account-key-request', { 'account-id': accountId, name, 'public-key-sha3-384': signer.publicKey.id, since: formatRFC3339(since) }, encodePublicKey(signer.publicKey), signer, { time: since }),
  );
}

describe('store server identity: caveats only restrict', () => {
  let tmp: { dir: string; cleanup(): Promise<void> };
  let db: Database;
  let store: LocalStore;
  let server: RunningStoreServer;
  let mallory: StoreAccount;
  let victim: StoreAccount;
  let signer: Signer;
  let clock = 0;
  const get = (path: string, auth: string) => call(server.url, 'GET', path, { headers: { authorization: auth } });
  const register = (auth: string, accountId: string) =>
    call(server.url, 'POST', '/dev/api/account/account-key', { headers: { authorization: auth }, body: { account_key_request: keyRequest(signer, accountId, 'stolen') } });

  /** Logs in over HTTP as snapd does: root macaroon from the dashboard, discharge from the SSO. */
  const login = async (email: string, password: string, permissions = ['package_access', 'package_manage']) => {
    const acl = await call(server.url, 'POST', '/dev/api/acl/', { body: { permissions } });
    assert.equal(acl.status, 200, acl.text);
    const root = acl.json.macaroon as string;
    const d = await call(server.url, 'POST', '/api/v2/tokens/discharge', { body: { email, password, caveat_id: thirdPartyCaveatId(deserializeMacaroon(root), 'login.ubuntu.com') } });
    assert.equal(d.status, 200, d.text);
    return { root, discharge: d.json.discharge_macaroon as string };
  };

  /** Nothing was registered for the victim, nor anywhere for the attacker's key. */
  const victimUntouched = async () => {
    assert.deepEqual(await store.accountKeys(victim.accountId), []);
    assert.equal(await store.findAssertion('account-key', [signer.publicKey.id]), undefined);
  };

  before(async () => {
    tmp = await makeTempDir('coreforge-storesec-');
    ({ db, store } = await openLocalStore(tmp.dir));
    server = await listenStore('127.0.0.1:0', { store, now: () => new Date(Date.now() + clock), dischargeTtlMs: 3600_000, refreshWindowMs: 24 * 3600_000 });
    mallory = await store.addAccount('mallory@example.com', 'mallory', [], hashPassword('mallory-pw'));
    victim = await store.addAccount('victim@example.com', 'victim', [], hashPassword(randomBytes(16).toString('hex')));
    signer = signerFromKeyObject(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey);
  });
  after(async () => {
    await server.close();
    await db.close();
    await tmp.cleanup();
  });

  it('serves the account the SSO logged in, unchanged macaroons (the baseline the attacks below start from)', async () => {
    const { root, discharge } = await login('mallory@example.com', 'mallory-pw');
    const me = await get('/dev/api/account', authorizationHeader(root, discharge));
    assert.equal(me.status, 200, me.text);
    assert.equal(me.json.account_id, mallory.accountId);
  });

  it('refuses account-id=VICTIM added to the root macaroon, and registers nothing on the victim\'s account', async () => {
    const { root, discharge } = await login('mallory@example.com', 'mallory-pw');
    const forged = authorizationHeader(withCaveat(root, `account-id=${victim.accountId}`), discharge);
    const me = await get('/dev/api/account', forged);
    assert.equal(me.status, 401);
    assert.deepEqual(me.json, {
      error_list: [{
        code: 'macaroon-authorization-required',
        message: `cannot authorize the request: caveat "account-id=${victim.accountId}" contradicts the account the SSO issued the login for; a caveat can only restrict a macaroon, never change its account`,
      }],
    });
    assert.equal((await register(forged, victim.accountId)).status, 401);
    await victimUntouched();
  });

  it('refuses account-id=VICTIM added to the discharge macaroon, and registers nothing on the victim\'s account', async () => {
    const { root, discharge } = await login('mallory@example.com', 'mallory-pw');
    const forged = authorizationHeader(root, withCaveat(discharge, `account-id=${victim.accountId}`));
    const me = await get('/dev/api/account', forged);
    assert.equal(me.status, 401);
    assert.match(me.json.error_list[0].message, /contradicts the account the SSO issued the login for/);
    const reg = await register(forged, victim.accountId);
    assert.equal(reg.status, 401);
    await victimUntouched();
  });

  it('refuses to refresh a discharge with account-id=VICTIM added, expired or not, and the refreshed login stays the attacker\'s own', async () => {
    const { root, discharge } = await login('mallory@example.com', 'mallory-pw');
    const forged = withCaveat(discharge, `account-id=${victim.accountId}`);
    const r = await call(server.url, 'POST', '/api/v2/tokens/refresh', { body: { discharge_macaroon: forged } });
    assert.equal(r.status, 401);
    assert.deepEqual(r.json, {
      code: 'INVALID_DATA',
      message: `cannot refresh the discharge macaroon: caveat "account-id=${victim.accountId}" contradicts the account the SSO issued the login for; a caveat can only restrict a macaroon, never change its account`,
      extra: {},
    });
    clock = 2 * 3600_000; // the discharge has expired: the case refresh exists for
    try {
      const expired = await get('/dev/api/account', authorizationHeader(root, discharge));
      assert.equal(expired.status, 401);
      assert.equal(expired.headers['www-authenticate'], 'Macaroon needs_refresh=1');
      assert.equal((await call(server.url, 'POST', '/api/v2/tokens/refresh', { body: { discharge_macaroon: forged } })).status, 401);
      // a later expires= does not stretch the login either: the SSO's expiry still holds
      const stretched = authorizationHeader(root, withCaveat(discharge, 'expires=2099-01-01T00:00:00Z'));
      assert.equal((await get('/dev/api/account', stretched)).headers['www-authenticate'], 'Macaroon needs_refresh=1');
      const fresh = await call(server.url, 'POST', '/api/v2/tokens/refresh', { body: { discharge_macaroon: discharge } });
      assert.equal(fresh.status, 200, fresh.text);
      const me = await get('/dev/api/account', authorizationHeader(root, fresh.json.discharge_macaroon));
      assert.equal(me.status, 200, me.text);
      assert.equal(me.json.account_id, mallory.accountId);
    } finally {
      clock = 0;
    }
    await victimUntouched();
  });

  it('refuses an identity caveat the SSO did not sign, and a discharge the attacker minted for a caveat of their own', async () => {
    const { root, discharge } = await login('mallory@example.com', 'mallory-pw');
    // the SSO's caveat, with the victim's account id in place of the attacker's
    const own = deserializeMacaroon(discharge).caveats.map((c) => Buffer.from(c.identifier).toString('utf8')).find((c) => c.startsWith('sso-identity='))!;
    assert.ok(own.includes(mallory.accountId), own);
    const copied = own.replace(mallory.accountId, victim.accountId);
    const r1 = await get('/dev/api/account', authorizationHeader(root, withCaveat(discharge, copied)));
    assert.equal(r1.status, 401);
    assert.match(r1.json.error_list[0].message, /^cannot authorize the request: caveat "sso-identity=\w+ \S+ \S+" was not issued by this store's SSO for this login; log in again$/);

    // a second third-party caveat, discharged by the attacker with any caveats they like
    const key = randomBytes(32);
    const rootMac = deserializeMacaroon(root).clone();
    rootMac.addThirdPartyCaveat(key, 'mallory-caveat', 'login.ubuntu.com');
    const own2 = macaroonLib.newMacaroon({ rootKey: key, identifier: 'mallory-caveat', location: 'login.ubuntu.com', version: 1 });
    own2.addFirstPartyCaveat(`account-id=${victim.accountId}`);
    own2.addFirstPartyCaveat(copied);
    const rootSerialized = serializeMacaroon(rootMac);
    const bound = [discharge, serializeMacaroon(own2)].map((d) => {
      const m = deserializeMacaroon(d);
      m.bindToRoot(rootMac.signature);
      return `discharge="${serializeMacaroon(m)}"`;
    });
    const r2 = await get('/dev/api/account', `Macaroon root="${rootSerialized}", ${bound.join(', ')}`);
    assert.equal(r2.status, 401);
    assert.equal(r2.json.error_list[0].message, 'cannot authorize the request: the root macaroon must have exactly one third-party caveat, for login.ubuntu.com; use the macaroon POST /dev/api/acl/ gave, unchanged but for first-party caveats');
    assert.equal((await register(`Macaroon root="${rootSerialized}", ${bound.join(', ')}`, victim.accountId)).status, 401);
    await victimUntouched();
  });

  const refused: [string, (m: { root: string; discharge: string }) => string, string][] = [
    ['an unknown caveat on the root', (m) => authorizationHeader(withCaveat(m.root, 'admin=true'), m.discharge), 'cannot authorize the request: caveat "admin=true" is not one this store understands (permissions=, account-id=, expires=); log in again without it'],
    ['an unknown caveat on the discharge', (m) => authorizationHeader(m.root, withCaveat(m.discharge, 'account-id')), 'cannot authorize the request: caveat "account-id" is not one this store understands (permissions=, account-id=, expires=); log in again without it'],
    ['an expires= that has passed', (m) => authorizationHeader(m.root, withCaveat(m.discharge, 'expires=2000-01-01T00:00:00Z')), 'cannot authorize the request: caveat "expires=..." added to the macaroons passed at 2000-01-01T00:00:00.000Z; log in again'],
    ['an expires= that is not a time', (m) => authorizationHeader(m.root, withCaveat(m.discharge, 'expires=tomorrow')), 'cannot authorize the request: caveat "expires=tomorrow" is not a UTC time (YYYY-MM-DDTHH:MM:SSZ); remove it or log in again'],
    ['no discharge', (m) => `Macaroon root="${m.root}"`, 'cannot authorize the request: the request must carry exactly one discharge macaroon, the SSO\'s for the root\'s caveat; log in again'],
    ['a discharge not bound to the root', (m) => `Macaroon root="${m.root}", discharge="${m.discharge}"`, 'cannot authorize the request: the macaroons\' signatures do not verify (or the discharge is not bound to the root); log in again'],
    ['no Authorization header', () => '', 'cannot authorize the request: it has no "Authorization: Macaroon root=..., discharge=..." header; log in to the store first'],
  ];
  for (const [name, forge, message] of refused) {
    it(`refuses a request with ${name}`, async () => {
      const header = forge(await login('mallory@example.com', 'mallory-pw'));
      const r = await call(server.url, 'GET', '/dev/api/account', header ? { headers: { authorization: header } } : {});
      assert.equal(r.status, 401);
      assert.equal(r.headers['www-authenticate'], undefined, 'a refresh would not help');
      assert.deepEqual(r.json, { error_list: [{ code: 'macaroon-authorization-required', message }] });
    });
  }

  it('honours restrictions a holder adds: its own account-id, a later expiry, fewer permissions, also after a refresh', async () => {
    const { root, discharge } = await login('mallory@example.com', 'mallory-pw');
    const narrowed = withCaveat(withCaveat(withCaveat(discharge, `account-id=${mallory.accountId}`), 'expires=2099-01-01T00:00:00Z'), 'permissions=package_access');
    const me = await get('/dev/api/account', authorizationHeader(root, narrowed));
    assert.equal(me.status, 200, me.text);
    assert.equal(me.json.account_id, mallory.accountId);
    const reg = await register(authorizationHeader(root, narrowed), mallory.accountId);
    assert.equal(reg.status, 403);
    assert.deepEqual(reg.json, {
      error_list: [{ code: 'macaroon-permission-required', message: 'cannot authorize the request: it needs permission modify_account_key or package_manage, and the macaroon allows only package_access; log in again asking for it' }],
    });
    const refreshed = await call(server.url, 'POST', '/api/v2/tokens/refresh', { body: { discharge_macaroon: narrowed } });
    assert.equal(refreshed.status, 200, refreshed.text);
    assert.equal((await register(authorizationHeader(root, refreshed.json.discharge_macaroon), mallory.accountId)).status, 403, 'the refresh kept the restriction');
    assert.deepEqual(await store.accountKeys(mallory.accountId), []);
    // a root asking only for package_access cannot register keys either
    const readOnly = await login('mallory@example.com', 'mallory-pw', ['package_access']);
    assert.equal((await register(authorizationHeader(readOnly.root, readOnly.discharge), mallory.accountId)).status, 403);
    await victimUntouched();
  });
});

describe('store server robustness', () => {
  let tmp: { dir: string; cleanup(): Promise<void> };
  let db: Database;
  let store: LocalStore;
  let server: RunningStoreServer;
  let clock = 0;
  const otpSecret = 'JBSWY3DPEHPK3PXP';
  let caveatId: string;
  let auth: string;

  const discharge = (body: Record<string, unknown>, from: string) => call(server.url, 'POST', '/api/v2/tokens/discharge', { body: { caveat_id: caveatId, ...body }, from });

  before(async () => {
    tmp = await makeTempDir('coreforge-storerobust-');
    ({ db, store } = await openLocalStore(tmp.dir));
    server = await listenStore('127.0.0.1:0', { store, now: () => new Date(Date.now() + clock) });
    for (const name of ['olive', 'paul', 'quinn', 'rita', 'sam', 'tina']) await store.addAccount(`${name}@example.com`, name, [], hashPassword('right-pw'), name === 'olive' || name === 'rita' ? otpSecret : undefined);
    const acl = await call(server.url, 'POST', '/dev/api/acl/', { body: { permissions: ['package_access', 'package_manage'] } });
    caveatId = thirdPartyCaveatId(deserializeMacaroon(acl.json.macaroon), 'login.ubuntu.com')!;
    const d = await discharge({ email: 'sam@example.com', password: 'right-pw' }, '127.0.0.1');
    auth = authorizationHeader(acl.json.macaroon, d.json.discharge_macaroon);
  });
  after(async () => {
    await server.close();
    await db.close();
    await tmp.cleanup();
  });

  it('throttles wrong one-time codes: after 5 in 15 minutes even the right code waits, with Retry-After, until the window passes', async () => {
    const from = '127.0.0.11';
    for (let i = 0; i < 5; i++) {
      const r = await discharge({ email: 'olive@example.com', password: 'right-pw', otp: String(100000 + i) }, from);
      assert.equal(r.status, 403, r.text);
      assert.equal(r.json.code, 'TWOFACTOR_FAILURE');
    }
    const right = () => discharge({ email: 'olive@example.com', password: 'right-pw', otp: totp(otpSecret, new Date()) }, from);
    const held = await right();
    assert.equal(held.status, 429);
    const wait = Number(held.headers['retry-after']);
    assert.ok(wait > 890 && wait <= 900, `Retry-After ${held.headers['retry-after']}`);
    assert.deepEqual(held.json, {
      code: 'TOO_MANY_REQUESTS',
      message: `cannot log in as "olive@example.com": 5 failed logins for this account in the last 15 minutes; wait ${wait} seconds and try again`,
      extra: { retry_after: wait },
    });
    // another address does not help: the count is the account's
    assert.equal((await discharge({ email: 'olive@example.com', password: 'right-pw', otp: totp(otpSecret, new Date()) }, '127.0.0.12')).status, 429);
    assert.equal((await discharge({ email: 'OLIVE@example.com ', password: 'x' }, '127.0.0.12')).status, 429, 'nor another spelling of the email');
    clock += (wait - 5) * 1000;
    assert.equal((await right()).status, 429, 'still inside the window');
    clock += 6000;
    const ok = await right();
    assert.equal(ok.status, 200, ok.text);
  });

  it('throttles wrong passwords per account, and a good login clears the account\'s count', async () => {
    const from = '127.0.0.13';
    for (let i = 0; i < 4; i++) assert.equal((await discharge({ email: 'paul@example.com', password: `guess-${i}` }, from)).status, 401);
    assert.equal((await discharge({ email: 'paul@example.com', password: 'right-pw' }, from)).status, 200);
    for (let i = 0; i < 5; i++) assert.equal((await discharge({ email: 'paul@example.com', password: `guess-${i}` }, from)).status, 401);
    const held = await discharge({ email: 'paul@example.com', password: 'right-pw' }, from);
    assert.equal(held.status, 429);
    assert.match(held.json.message, /^cannot log in as "paul@example\.com": 5 failed logins for this account in the last 15 minutes; wait \d+ seconds and try again$/);
  });

  it('throttles failed logins per client address across accounts: 20 in 15 minutes, then every account waits from that address', async () => {
    const from = '127.0.0.14';
    for (let i = 0; i < 20; i++) assert.equal((await discharge({ email: `nobody-${i}@example.com`, password: 'x' }, from)).status, 401);
    const held = await discharge({ email: 'quinn@example.com', password: 'right-pw' }, from);
    assert.equal(held.status, 429);
    assert.equal(held.json.message, `cannot log in as "quinn@example.com": 20 failed logins from this address (127.0.0.14) in the last 15 minutes; wait ${held.headers['retry-after']} seconds and try again`);
    assert.equal((await discharge({ email: 'quinn@example.com', password: 'right-pw' }, '127.0.0.15')).status, 200, 'other addresses are not held');
  });

  it('lets no more than 5 of 30 parallel guesses at a one-time code through to be checked', async () => {
    const from = '127.0.0.16';
    const replies = await Promise.all(Array.from({ length: 30 }, (_, i) => discharge({ email: 'rita@example.com', password: 'right-pw', otp: String(200000 + i) }, from)));
    const statuses = replies.map((r) => r.status).sort();
    assert.deepEqual(statuses, [...Array<number>(5).fill(403), ...Array<number>(25).fill(429)]);
  });

  it('makes the store client say how long to wait when the SSO throttles its login', async () => {
    const c = new StoreClient({ apiUrl: server.url, ssoUrl: server.url, dashboardUrl: server.url, credentialsPath: join(tmp.dir, 'creds.json'), cacheDir: join(tmp.dir, 'cache'), retry: { attempts: 1, baseDelayMs: 1 } });
    for (let i = 0; i < 5; i++) await assert.rejects(c.login('tina@example.com', `guess-${i}`), { kind: 'invalid-credentials' });
    await assert.rejects(c.login('tina@example.com', 'right-pw'), (err: CoreforgeError) => {
      assert.equal(err.kind, 'login-throttled');
      assert.match(err.message, /^cannot log in as "tina@example\.com": the store refuses logins for now after too many failed ones; wait (\d+) seconds and try again$/);
      assert.ok(Number(err.message.match(/wait (\d+) seconds/)![1]) > 800);
      return true;
    });
    assert.equal(await c.loggedInEmail(), undefined, 'no login was kept');
  });

  const big = Buffer.from(JSON.stringify({ email: 'a@b.c', password: 'x'.repeat(2 << 20), caveat_id: 'c' }));
  const tooLarge: [string, string, number, string, unknown][] = [
    ['/api/v2/tokens/discharge', 'sso', 64, 'REQUEST_TOO_LARGE', undefined],
    ['/api/v2/tokens/refresh', 'sso', 64, 'REQUEST_TOO_LARGE', undefined],
    ['/dev/api/acl/', 'dashboard', 64, 'request-too-large', undefined],
    ['/dev/api/account/account-key', 'dashboard', 64, 'request-too-large', undefined],
    ['/v2/snaps/refresh', 'api', 1024, 'request-too-large', undefined],
  ];
  for (const [path, family, kib, code] of tooLarge) {
    for (const chunked of [false, true]) {
      it(`answers 413 to a 2 MiB body to POST ${path}${chunked ? ' sent chunked' : ''}`, async () => {
        const r = await call(server.url, 'POST', path, { body: big, chunked, headers: { authorization: auth } });
        assert.equal(r.status, 413, r.text);
        const message = `cannot read the request body of POST ${path}: it is larger than ${kib === 1024 ? '1 MiB' : `${kib} KiB`}, the limit of this endpoint; send a smaller body`;
        assert.deepEqual(r.json, family === 'sso' ? { code, message, extra: {} } : family === 'dashboard' ? { error_list: [{ code, message }] } : { 'error-list': [{ code, message }] });
      });
    }
  }

  it('reads a 100 KiB refresh request (snapd lists every installed snap) but not a 100 KiB login', async () => {
    const context = Array.from({ length: 400 }, (_, i) => ({ 'snap-id': `id${i}`.padEnd(32, 'x'), 'instance-key': `k${i}`, revision: 1, 'tracking-channel': 'latest/stable', 'refreshed-date': '2024-01-01T00:00:00Z', epoch: { read: [0], write: [0] }, pad: 'p'.repeat(100) }));
    const body = { context, actions: [{ action: 'download', 'instance-key': 'download-1', name: 'nope', channel: 'stable' }] };
    assert.ok(JSON.stringify(body).length > 100 << 10);
    const r = await call(server.url, 'POST', '/v2/snaps/refresh', { body });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.results[0].error.code, 'name-not-found');
    assert.equal((await call(server.url, 'POST', '/api/v2/tokens/discharge', { body: { email: 'a@b.c', password: 'x'.repeat(100 << 10), caveat_id: caveatId } })).status, 413);
  });

  const badPaths: [string, string][] = [
    ['/v2/assertions/account/%ZZ', 'api'],
    ['/v2/assertions/%E0%A4%A/x', 'api'],
    ['/api/v1/snaps/download/%ZZ.snap', 'api'],
    ['/api/v2/keys/a%ZZ@example.com', 'sso'],
  ];
  for (const [path, family] of badPaths) {
    it(`answers 400 to the malformed percent-escape in GET ${path}`, async () => {
      const r = await call(server.url, 'GET', path);
      assert.equal(r.status, 400, r.text);
      const message = `cannot read the path of GET ${path}: it has a malformed percent-escape; write "%" as %25 and other bytes as %XX with two hex digits`;
      assert.deepEqual(r.json, family === 'sso' ? { code: 'INVALID_DATA', message, extra: {} } : { 'error-list': [{ code: 'invalid-path', message }] });
    });
  }

  it('decodes an assertion\'s primary key once: %25 is a "%" and finds nothing, without an error', async () => {
    const r = await call(server.url, 'GET', '/v2/assertions/account/%25ZZ');
    assert.equal(r.status, 404, r.text);
  });

  const badJson: [string, string][] = [
    ['/v2/snaps/refresh', 'api'],
    ['/api/v2/tokens/discharge', 'sso'],
    ['/api/v2/tokens/refresh', 'sso'],
    ['/dev/api/acl/', 'dashboard'],
    ['/dev/api/account/account-key', 'dashboard'],
  ];
  for (const [path, family] of badJson) {
    it(`answers 400 to a body that is not JSON at POST ${path}`, async () => {
      const r = await call(server.url, 'POST', path, { body: '{"actions": [', headers: { authorization: auth } });
      assert.equal(r.status, 400, r.text);
      const message = r.json && (r.json.message ?? (r.json.error_list ?? r.json['error-list'])[0].message);
      assert.match(message, new RegExp(`^cannot read the request body of POST ${path.replace(/[/.]/g, '\\$&')}: it is not valid JSON \\(.+\\); send a JSON object$`));
      if (family === 'sso') assert.equal(r.json.code, 'INVALID_DATA');
      else assert.equal((r.json.error_list ?? r.json['error-list'])[0].code, 'invalid-json');
    });
  }

  const badShapes: [string, unknown, number, string][] = [
    ['/v2/snaps/refresh', { actions: [null] }, 400, 'cannot read the refresh request: "actions[0]" must be an object such as {"action": "download", "name": "NAME"}'],
    ['/v2/snaps/refresh', { actions: 'all' }, 400, 'cannot read the refresh request: "actions" must be a list of action objects; send {"context": [...], "actions": [...]}'],
    ['/v2/snaps/refresh', [], 400, 'cannot read the refresh request: "actions" must be a list of action objects; send {"context": [...], "actions": [...]}'],
    ['/v2/snaps/refresh', { actions: [], context: [1] }, 400, 'cannot read the refresh request: "context" must be a list of objects (one per installed snap)'],
    ['/v2/snaps/refresh', { actions: Array(1001).fill({}) }, 400, 'cannot read the refresh request: it has 1001 actions, more than 1000; split it into several requests'],
    ['/api/v2/tokens/discharge', [], 400, 'cannot log in: "email", "password", "caveat_id" must be strings; send {"email", "password", "caveat_id"} (and "otp" when the account has 2-factor authentication)'],
    ['/api/v2/tokens/discharge', { email: 'a@b.c', password: 'x', caveat_id: 'c', otp: 123456 }, 400, 'cannot log in: "otp" must be a string; send {"email", "password", "caveat_id"} (and "otp" when the account has 2-factor authentication)'],
    ['/api/v2/tokens/discharge', { email: 'a@b.c', password: 'x', caveat_id: 'not-ours' }, 400, 'cannot log in: "caveat_id" is not the SSO caveat of a root macaroon from this store; get a root macaroon from POST /dev/api/acl/ and send its caveat id'],
    ['/api/v2/tokens/refresh', { discharge_macaroon: 5 }, 400, 'cannot refresh the discharge macaroon: "discharge_macaroon" must be a string; send {"discharge_macaroon": "..."} as the SSO gave it'],
    ['/api/v2/tokens/refresh', { discharge_macaroon: 'AAAA' }, 401, 'cannot refresh the discharge macaroon: it is not a macaroon in the store\'s format; log in again'],
    ['/dev/api/acl/', { permissions: 'package_access' }, 400, 'cannot issue a macaroon: "permissions" must be a list of 1 to 32 permission names (lowercase letters and "_", such as "package_access"); send {"permissions": ["package_access"]}'],
    ['/dev/api/acl/', { permissions: [{}] }, 400, 'cannot issue a macaroon: "permissions" must be a list of 1 to 32 permission names (lowercase letters and "_", such as "package_access"); send {"permissions": ["package_access"]}'],
    ['/dev/api/acl/', { permissions: ['a,b'] }, 400, 'cannot issue a macaroon: "permissions" must be a list of 1 to 32 permission names (lowercase letters and "_", such as "package_access"); send {"permissions": ["package_access"]}'],
    ['/dev/api/account/account-key', { account_key_request: 5 }, 400, 'cannot register key: "account_key_request" must be the text of an account-key-request assertion; send {"account_key_request": "type: account-key-request\\n..."}'],
    ['/dev/api/account/account-key', { account_key_request: 'junk' }, 400, ''],
  ];
  for (const [path, body, status, message] of badShapes) {
    it(`answers ${status} to ${JSON.stringify(body).slice(0, 60)} at POST ${path}`, async () => {
      const r = await call(server.url, 'POST', path, { body, headers: { authorization: auth } });
      assert.equal(r.status, status, r.text);
      const got = r.json.message ?? (r.json.error_list ?? r.json['error-list'])[0].message;
      if (message) assert.equal(got, message);
      else assert.match(got, /^cannot register key: the account-key-request is not valid: /);
    });
  }

  it('answers every route with JSON and no 500 for junk in headers, queries and methods', async () => {
    const probes: [string, string, Record<string, string>][] = [
      ['GET', '/dev/api/account', { authorization: 'Macaroon root="%%%", discharge="!!"' }],
      ['GET', '/dev/api/account', { authorization: `Macaroon root="${'A'.repeat(8000)}"` }],
      ['GET', '/api/v1/snaps/download/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA_99999999999999999999.snap', {}],
      ['GET', '/v2/assertions/no-such-type/x?q=%ZZ', {}],
      ['GET', '/api/v2/keys/%F0%9F%98%80', {}],
      ['DELETE', '/v2/snaps/refresh', {}],
      ['POST', '/v2/snaps/refresh', { 'content-encoding': 'bogus' }],
    ];
    for (const [method, path, headers] of probes) {
      const r = await call(server.url, method, path, { headers, ...(method === 'POST' ? { body: { actions: [] } } : {}) });
      assert.ok(r.status >= 400 && r.status < 500, `${method} ${path}: ${r.status} ${r.text}`);
      assert.ok(r.json, `${method} ${path}: not JSON: ${r.text}`);
    }
  });
});
