import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateKeyPairSync } from 'node:crypto';
import { readFile, stat, writeFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeAssertion, encodeAssertion, encodePublicKey, formatRFC3339, signAssertion, signerFromKeyObject, type Signer } from '../../../daemon/asserts/index.js';
import { SqliteAssertionDatabase } from '../../../daemon/asserts-db/database.js';
import { loadRoots } from '../../../daemon/asserts-db/roots.js';
import type { Database } from '../../../daemon/db/database.js';
import type { CoreforgeError } from '../../../daemon/errors.js';
import { StoreClient } from '../../../daemon/store/client/client.js';
import { StoreSnapSource } from '../../../daemon/store/client/snap-source.js';
import type { SnapSource } from '../../../daemon/image/pipeline/snap-source.js';
import { hashPassword, totp } from '../../../daemon/store/local/secrets.js';
import type { LocalStore } from '../../../daemon/store/local/store.js';
import { listenStore, type RunningStoreServer } from '../../../daemon/store/server/listen.js';
import { fixtureSnapId, modelJSON } from '../../fixtures/models.js';
import { buildAllFixtures, type BuiltFixture } from '../../fixtures/snaps.js';
import { makeTempDir } from '../../helpers/tmp.js';
import { openLocalStore, storeFixtures } from './helpers.js';

const aliceKey = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl alice@laptop';
const otpSecret = 'JBSWY3DPEHPK3PXP';
const fastRetry = { attempts: 3, baseDelayMs: 5 };

/** Rejects with a CoreforgeError of that kind and exact message. */
async function rejectsWith(p: Promise<unknown>, kind: string, message: string | RegExp) {
  await assert.rejects(p, (err: CoreforgeError) => {
    assert.equal(err.kind, kind, err.message);
    if (typeof message === 'string') assert.equal(err.message, message);
    else assert.match(err.message, message);
    return true;
  });
}

/** A throwaway HTTP server on 127.0.0.1 for misbehaving-store cases. */
async function fakeServer(handler: Parameters<typeof createServer>[1]): Promise<{ url: string; server: Server }> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

function devRequest(signer: Signer, accountId: string, name: string): string {
  const now = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000);
  return encodeAssertion(
    signAssertion('account-key-request', { 'account-id': accountId, name, 'public-key-sha3-384': signer.publicKey.id, since: formatRFC3339(now) }, encodePublicKey(signer.publicKey), signer, { time: now }),
  );
}

describe('store client against the store server', () => {
  let tmp: { dir: string; cleanup(): Promise<void> };
  let db: Database;
  let store: LocalStore;
  let server: RunningStoreServer;
  let fx: Record<string, BuiltFixture>;
  let clock = 0;
  let n = 0;
  const client = (extra: Partial<ConstructorParameters<typeof StoreClient>[0]> = {}) =>
    new StoreClient({
      apiUrl: server.url,
      ssoUrl: server.url,
      dashboardUrl: server.url,
      credentialsPath: join(tmp.dir, 'creds.json'),
      cacheDir: join(tmp.dir, 'cache'),
      retry: fastRetry,
      ...extra,
    });

  before(async () => {
    tmp = await makeTempDir('coreforge-storeclient-');
    const now = () => new Date(Date.now() + clock);
    [{ db, store }, fx] = await Promise.all([openLocalStore(tmp.dir, now), storeFixtures(join(tmp.dir, 'snaps'))]);
    server = await listenStore('127.0.0.1:0', { store, now, log: (l) => process.stderr.write(`${l}\n`), dischargeTtlMs: 3600_000, refreshWindowMs: 7 * 24 * 3600_000 });
    await store.addAccount('alice@example.com', 'alice', [aliceKey], hashPassword('s3cret'));
    await store.addAccount('bob@example.com', 'bob', [], hashPassword('pw'), otpSecret);
    await store.add(fx['hello-coreforge-amd64']!.path, 'latest/stable');
    await store.add(fx['pc-kernel-18']!.path, '18/stable');
  });
  after(async () => {
    await server.close();
    await db.close();
    await tmp.cleanup();
  });

  it('logs in with the dashboard macaroon discharged by the SSO and keeps the login 0600', async () => {
    const c = client();
    const a = await c.login('alice@example.com', 's3cret');
    assert.equal(a.username, 'alice');
    assert.equal(a.email, 'alice@example.com');
    assert.equal((await stat(join(tmp.dir, 'creds.json'))).mode & 0o777, 0o600);
    assert.equal((await c.account()).accountId, a.accountId);
    assert.equal(await c.loggedInEmail(), 'alice@example.com');
  });

  const loginErrors: [string, string, string | undefined, string, string][] = [
    ['alice@example.com', 'wrong', undefined, 'invalid-credentials', 'cannot log in as "alice@example.com": the email or password is not correct; check them and try again'],
    ['nobody@example.com', 'x', undefined, 'invalid-credentials', 'cannot log in as "nobody@example.com": the email or password is not correct; check them and try again'],
    ['bob@example.com', 'pw', undefined, 'otp-required', 'cannot log in as "bob@example.com": this account needs a one-time code (2-factor authentication); type the code from your authenticator'],
    ['bob@example.com', 'pw', '000000', 'otp-required', 'cannot log in as "bob@example.com": the one-time code is not correct; type the current code from your authenticator'],
  ];
  for (const [email, password, otp, kind, message] of loginErrors) {
    it(`refuses login ${email} / ${password}${otp ? ` / otp ${otp}` : ''}: ${kind}`, async () => {
      await rejectsWith(client({ credentialsPath: join(tmp.dir, 'other-creds.json') }).login(email, password, otp), kind, message);
    });
  }

  it('logs in with a one-time code when the account has one', async () => {
    const c = client({ credentialsPath: join(tmp.dir, 'bob-creds.json') });
    assert.equal((await c.login('bob@example.com', 'pw', totp(otpSecret, new Date()))).username, 'bob');
  });

  it('refreshes an expired discharge, and asks to log in again when it can no longer be refreshed', async () => {
    const c = client({ credentialsPath: join(tmp.dir, 'bob-creds.json') });
    const before = await readFile(join(tmp.dir, 'bob-creds.json'), 'utf8');
    clock = 2 * 3600_000;
    assert.equal((await c.account()).username, 'bob');
    assert.notEqual(await readFile(join(tmp.dir, 'bob-creds.json'), 'utf8'), before, 'the refreshed discharge is saved');
    clock = 30 * 24 * 3600_000;
    await rejectsWith(c.account(), 'login-expired', 'cannot get the store account: the store login of "bob@example.com" has expired or was revoked; run `coreforge login bob@example.com` again');
    clock = 0;
  });

  it('needs a login for account and register-key', async () => {
    await rejectsWith(client({ credentialsPath: join(tmp.dir, 'none.json') }).account(), 'login-required', 'cannot get the store account: not logged in to the store; run `coreforge login EMAIL` first');
  });

  it('registers a key, and a model signed by it verifies through the local root chain', async () => {
    const c = client();
    const me = await c.account();
    const signer = signerFromKeyObject(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey);
    const key = await c.registerKey(devRequest(signer, me.accountId, 'default'));
    assert.equal(key.headers['account-id'], me.accountId);
    assert.deepEqual((await c.account()).accountKeys.map((k) => k.name), ['default']);
    await rejectsWith(c.registerKey(devRequest(signer, me.accountId, 'default')), 'key-already-registered', `cannot register key "default": it is already registered with account "${me.accountId}"`);

    const adb = await new SqliteAssertionDatabase(db, loadRoots()).open();
    await adb.addTrusted(await store.rootText());
    const now = new Date(Math.floor(Date.now() / 1000) * 1000);
    const model = signAssertion('model', modelJSON('coreforge-pc-20', me.accountId, now), undefined, signer, { time: now });
    const chain = [
      await c.assertion('account', [me.accountId]),
      await c.assertion('account-key', [String((await store.identity()).storeAccountKey.headers['public-key-sha3-384'])]),
      encodeAssertion(key),
      encodeAssertion(model),
    ];
    const stored = await adb.add(chain.join('\n'));
    assert.equal(stored.at(-1)?.type, 'model');
  });

  it('resolves a snap by name and channel, downloads it with its assertions, then serves it from the cache', async () => {
    const c = client();
    const hello = fx['hello-coreforge-amd64']!;
    const r = await c.resolve('hello-coreforge', 'stable', 'amd64');
    assert.equal(r['snap-id'], fixtureSnapId('hello-coreforge'));
    assert.equal(r.revision, 1);
    assert.equal(r['sha3-384'], hello.sha3_384);
    assert.equal(r.size, hello.size);
    assert.equal(r.channel, 'latest/stable');
    const seen: number[] = [];
    const first = await c.download(r, { progress: (d) => seen.push(d) });
    assert.equal(first.downloaded, hello.size);
    assert.equal(first.cached, false);
    assert.equal(seen.at(-1), hello.size);
    assert.deepEqual(await readFile(first.path), await readFile(hello.path));
    const asserts = await c.snapAssertions(r);
    assert.deepEqual(asserts.map((a) => a.type), ['snap-revision', 'account-key', 'account-key', 'account', 'snap-declaration']);
    const root = (await store.identity()).rootAccountKey.headers['public-key-sha3-384'];
    assert.equal((await c.snapAssertions(r, (t, k) => t === 'account-key' && k === root)).length, 4, 'stops at known roots');
    const second = await c.download(await c.resolve('hello-coreforge', 'stable', 'amd64'));
    assert.equal(second.downloaded, 0);
    assert.equal(second.cached, true);
  });

  it('serves image builds as a SnapSource: by name and channel, with snap-declaration and snap-revision', async () => {
    const source: SnapSource = new StoreSnapSource(client({ cacheDir: join(tmp.dir, 'cache-source') }), 'amd64');
    const kernel = fx['pc-kernel-18']!;
    const got = await source.find('pc-kernel', '18/stable');
    assert.ok(got);
    assert.deepEqual(got.info, { name: 'pc-kernel', version: kernel.version, type: 'kernel', architectures: ['amd64'], base: '' });
    assert.equal(got.revision, '1');
    assert.equal(got.snapId, fixtureSnapId('pc-kernel'));
    assert.equal(got.sha3_384, kernel.sha3_384);
    assert.deepEqual(got.assertions.map((a) => decodeAssertion(a).type), ['snap-declaration', 'snap-revision']);
    assert.equal(await source.find('no-such-snap', 'stable'), undefined);
  });

  it('keeps the cache under its size limit, least recently used out first', async () => {
    const kernel = fx['pc-kernel-18']!;
    const hello = fx['hello-coreforge-amd64']!;
    const c = client({ cacheDir: join(tmp.dir, 'cache-limit'), cacheLimitBytes: kernel.size + hello.size - 1 });
    await c.download(await c.resolve('hello-coreforge', 'stable', 'amd64'));
    await c.download(await c.resolve('pc-kernel', '18/stable', 'amd64'));
    assert.deepEqual(await readdir(join(tmp.dir, 'cache-limit')), [kernel.sha3_384]);
  });

  it('downloads a large snap (hashed in a worker thread) intact', async () => {
    const big = (await buildAllFixtures(join(tmp.dir, 'big'), { ids: ['hello-coreforge-amd64'], pad: { 'hello-coreforge-amd64': 10 << 20 } }))['hello-coreforge-amd64']!;
    await store.add(big.path, 'big/stable');
    const c = client({ cacheDir: join(tmp.dir, 'cache-big') });
    const got = await c.download(await c.resolve('hello-coreforge', 'big/stable', 'amd64'));
    assert.equal(got.downloaded, big.size);
    assert.ok(big.size > 10 << 20);
    assert.deepEqual(await readFile(got.path), await readFile(big.path));
  });

  const resolveErrors: [string, string, string, string, string][] = [
    ['no-such-snap', 'stable', 'amd64', 'snap-not-found', 'cannot find snap "no-such-snap" in the store at SERVER; check the name'],
    ['pc-kernel', 'latest/stable', 'amd64', 'revision-not-found', 'cannot find a revision of snap "pc-kernel" in channel "latest/stable" for amd64; it is available in 18/stable'],
    ['pc-kernel', '18/stable', 'arm64', 'revision-not-found', 'cannot find snap "pc-kernel" for architecture arm64: it is only available for amd64'],
  ];
  for (const [name, channel, arch, kind, message] of resolveErrors) {
    it(`refuses to resolve ${name} ${channel} ${arch}: ${kind}`, async () => {
      await rejectsWith(client().resolve(name, channel, arch), kind, message.replace('SERVER', server.url));
    });
  }

  it('removes a download that does not match its digest, retries once, then says so', async () => {
    const kernel = fx['pc-kernel-18']!;
    const blob = store.blobPath(kernel.sha3_384);
    const good = await readFile(blob);
    const bad = Buffer.from(good);
    bad[bad.length - 1] ^= 0xff;
    await writeFile(blob, bad);
    try {
      const c = client({ cacheDir: join(tmp.dir, 'cache-mismatch') });
      const r = await c.resolve('pc-kernel', '18/stable', 'amd64');
      await rejectsWith(c.download(r), 'digest-mismatch', /^cannot download snap "pc-kernel": the file from http:\/\/127\.0\.0\.1:\d+ does not match its snap-revision \(sha3-384 \S+, 106496 bytes; expected \S+, 106496 bytes\), twice; the store is serving a corrupt file, try again later or tell its operator$/);
      assert.deepEqual(await readdir(join(tmp.dir, 'cache-mismatch')), []);
    } finally {
      await writeFile(blob, good);
    }
  });

  it('resumes a download cut in the middle with a Range request', async () => {
    const kernel = fx['pc-kernel-18']!;
    const r = await client().resolve('pc-kernel', '18/stable', 'amd64');
    const ranges: string[] = [];
    let cut = false;
    const proxy = await fakeServer((req, res) => {
      ranges.push(req.headers.range ?? '');
      const up = request(`${server.url}${req.url}`, { headers: req.headers.range ? { range: req.headers.range } : {} }, (u) => {
        res.writeHead(u.statusCode!, u.headers);
        if (!cut) {
          cut = true;
          u.once('data', (chunk: Buffer) => {
            res.write(chunk.subarray(0, 5000), () => res.destroy());
            u.destroy();
          });
        } else u.pipe(res);
      });
      up.end();
    });
    try {
      const got = await client({ cacheDir: join(tmp.dir, 'cache-resume') }).download({ ...r, url: `${proxy.url}${new URL(r.url).pathname}` });
      assert.equal(got.downloaded, kernel.size);
      assert.deepEqual(ranges, ['', 'bytes=5000-']);
      assert.deepEqual(await readFile(got.path), await readFile(kernel.path));
    } finally {
      proxy.server.close();
    }
  });

  it('looks up an account\'s SSH keys at the SSO, and says when there is no such account', async () => {
    const c = client();
    assert.deepEqual((await c.sshKeys('alice@example.com')).sshKeys, [aliceKey]);
    await rejectsWith(c.sshKeys('nobody@example.com'), 'account-not-found', /no account with that email/);
  });

  it('retries 5xx replies and then says the store is unreachable', async () => {
    let hits = 0;
    const bad = await fakeServer((_req, res) => {
      hits++;
      res.writeHead(503, { 'content-type': 'application/json' }).end('{"error-list":[{"code":"down","message":"maintenance"}]}');
    });
    try {
      await rejectsWith(client({ apiUrl: bad.url }).resolve('hello-coreforge', 'stable', 'amd64'), 'store-unreachable', `cannot reach the store at ${bad.url}: it answered with status 503: maintenance (tried 3 times); check the network and the store URL`);
      assert.equal(hits, 3);
    } finally {
      bad.server.close();
    }
  });

  it('says the store is unreachable when the connection is refused', async () => {
    const closed = await fakeServer(() => {});
    const url = closed.url;
    await new Promise((r) => closed.server.close(r));
    await rejectsWith(client({ apiUrl: url }).resolve('hello-coreforge', 'stable', 'amd64'), 'store-unreachable', `cannot reach the store at ${url}: ECONNREFUSED (tried 3 times); check the network and the store URL`);
  });

  it('refuses a malformed JSON reply', async () => {
    const bad = await fakeServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"results": ['));
    try {
      await rejectsWith(client({ apiUrl: bad.url }).resolve('hello-coreforge', 'stable', 'amd64'), 'bad-store-reply', `cannot use the reply of ${bad.url} to /v2/snaps/refresh: it is not valid JSON; check the store URL (--store-url, --sso-url, --dashboard-url)`);
    } finally {
      bad.server.close();
    }
  });
});
