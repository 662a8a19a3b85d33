// The store server's wire shapes, as snapd and snapcraft send and read them.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeAssertion } from '../../../daemon/asserts/index.js';
import type { Database } from '../../../daemon/db/database.js';
import { deserializeMacaroon, serializeMacaroon, thirdPartyCaveatId } from '../../../daemon/store/macaroons.js';
import type { LocalStore } from '../../../daemon/store/local/store.js';
import { listenStore, parseListen, type RunningStoreServer } from '../../../daemon/store/server/listen.js';
import { parseRange } from '../../../daemon/store/server/app.js';
import { fixtureSnapId } from '../../fixtures/models.js';
import type { BuiltFixture } from '../../fixtures/snaps.js';
import { makeTempDir } from '../../helpers/tmp.js';
import { openLocalStore, storeFixtures } from './helpers.js';

describe('store server wire format', () => {
  let tmp: { dir: string; cleanup(): Promise<void> };
  let db: Database;
  let store: LocalStore;
  let server: RunningStoreServer;
  let fx: Record<string, BuiltFixture>;

  before(async () => {
    tmp = await makeTempDir('coreforge-storeserver-');
    [{ db, store }, fx] = await Promise.all([openLocalStore(tmp.dir), storeFixtures(join(tmp.dir, 'snaps'))]);
    await store.add(fx['hello-coreforge-amd64']!.path, 'stable');
    server = await listenStore('127.0.0.1:0', { store });
  });
  after(async () => {
    await server.close();
    await db.close();
    await tmp.cleanup();
  });

  const refresh = (actions: unknown[], arch = 'amd64') =>
    fetch(`${server.url}/v2/snaps/refresh`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'Snap-Device-Series': '16', 'Snap-Device-Architecture': arch },
      body: JSON.stringify({ context: [], actions, fields: ['download', 'revision'] }),
    }).then(async (r) => ({ status: r.status, body: (await r.json()) as { results: Record<string, unknown>[]; 'error-list': unknown[] } }));

  it('answers snapd\'s install action (epoch null, instance-key install-1) with a snap and its download', async () => {
    const hello = fx['hello-coreforge-amd64']!;
    const { status, body } = await refresh([{ action: 'install', 'instance-key': 'install-1', name: 'hello-coreforge', channel: 'stable', epoch: null }]);
    assert.equal(status, 200);
    assert.deepEqual(body['error-list'], []);
    const r = body.results[0]!;
    assert.equal(r.result, 'install');
    assert.equal(r['instance-key'], 'install-1');
    assert.equal(r['snap-id'], fixtureSnapId('hello-coreforge'));
    assert.equal(r['effective-channel'], 'latest/stable');
    const snap = r.snap as { revision: number; download: { url: string; 'sha3-384': string; size: number }; epoch: unknown; type: string; version: string; architectures: string[] };
    assert.equal(snap.revision, 1);
    assert.deepEqual(snap.epoch, { read: [0], write: [0] });
    assert.deepEqual(snap.architectures, ['amd64']);
    assert.equal(snap.download['sha3-384'], Buffer.from(hello.sha3_384, 'base64url').toString('hex'), 'hex, as the real store and snapd have it');
    assert.equal(snap.download.size, hello.size);
    assert.match(snap.download.url, new RegExp(`^${server.url}/api/v1/snaps/download/${fixtureSnapId('hello-coreforge')}_1\\.snap$`));
  });

  it('gives per-action errors with the requested name, as snapd maps them', async () => {
    const { body } = await refresh([
      { action: 'download', 'instance-key': 'download-1', name: 'nope', channel: 'stable' },
      { action: 'download', 'instance-key': 'download-2', name: 'hello-coreforge', channel: 'edge' },
    ], 'arm64');
    assert.deepEqual(body.results.map((r) => [r.result, r.name, (r.error as { code: string }).code]), [
      ['error', 'nope', 'name-not-found'],
      ['error', 'hello-coreforge', 'revision-not-found'],
    ]);
    assert.deepEqual((body.results[1]!.error as { extra: unknown }).extra, { releases: [{ architecture: 'amd64', channel: 'latest/stable' }] });
  });

  it('serves assertions as application/x.ubuntu.assertion and 404s as an error list', async () => {
    const hello = fx['hello-coreforge-amd64']!;
    const ok = await fetch(`${server.url}/v2/assertions/snap-revision/${hello.sha3_384}`, { headers: { accept: 'application/x.ubuntu.assertion' } });
    assert.equal(ok.status, 200);
    assert.match(ok.headers.get('content-type') ?? '', /^application\/x\.ubuntu\.assertion/);
    assert.equal(decodeAssertion(await ok.text()).headers['snap-sha3-384'], hello.sha3_384);
    const missing = await fetch(`${server.url}/v2/assertions/account/nobody`);
    assert.equal(missing.status, 404);
    assert.deepEqual(await missing.json(), { 'error-list': [{ code: 'not-found', message: 'not found' }] });
  });

  it('serves byte ranges of a download', async () => {
    const hello = fx['hello-coreforge-amd64']!;
    const url = `${server.url}/api/v1/snaps/download/${fixtureSnapId('hello-coreforge')}_1.snap`;
    const part = await fetch(url, { headers: { range: 'bytes=100-199' } });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get('content-range'), `bytes 100-199/${hello.size}`);
    assert.deepEqual(Buffer.from(await part.arrayBuffer()), (await readFile(hello.path)).subarray(100, 200));
    assert.equal((await fetch(`${server.url}/api/v1/snaps/download/${fixtureSnapId('hello-coreforge')}_9.snap`)).status, 404);
  });

  it('mints v1 binary macaroons with a third-party caveat for the SSO, and refuses bad discharge requests', async () => {
    const acl = (await (await fetch(`${server.url}/dev/api/acl/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"permissions":["package_access"]}' })).json()) as { macaroon: string };
    assert.match(Buffer.from(acl.macaroon, 'base64url').subarray(0, 4).toString(), /^[0-9a-f]{4}$/, 'v1 binary starts with a hex packet length');
    const m = deserializeMacaroon(acl.macaroon);
    assert.equal(serializeMacaroon(m), acl.macaroon, 'v1 codec round-trips');
    assert.ok(thirdPartyCaveatId(m, 'login.ubuntu.com'), 'snapd finds the login caveat by location');
    const bad = await fetch(`${server.url}/api/v2/tokens/discharge`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"email":"a@b.c"}' });
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { code: string }).code, 'INVALID_DATA');
    const noAuth = await fetch(`${server.url}/dev/api/account`);
    assert.equal(noAuth.status, 401);
    const junk = await fetch(`${server.url}/dev/api/account`, { headers: { authorization: 'Macaroon root="AAAA", discharge="BBBB"' } });
    assert.equal(junk.status, 401);
  });

  const ranges: [string | undefined, ReturnType<typeof parseRange>][] = [
    [undefined, null],
    ['bytes=0-99', { start: 0, end: 99 }],
    ['bytes=900-', { start: 900, end: 999 }],
    ['bytes=-100', { start: 900, end: 999 }],
    ['bytes=990-5000', { start: 990, end: 999 }],
    ['bytes=1000-', 'bad'],
    ['bytes=0-1,5-6', null],
  ];
  for (const [header, want] of ranges) {
    it(`reads Range ${header ?? '(none)'} of a 1000-byte file`, () => {
      assert.deepEqual(parseRange(header, 1000), want);
    });
  }

  it('answers 416 for a range past the end', async () => {
    const r = await fetch(`${server.url}/api/v1/snaps/download/${fixtureSnapId('hello-coreforge')}_1.snap`, { headers: { range: 'bytes=99999999-' } });
    assert.equal(r.status, 416);
  });

  const listens: [string, string][] = [
    ['localhost', 'cannot listen on "localhost": use ADDR:PORT such as 127.0.0.1:8181'],
    ['127.0.0.1:99999', 'cannot listen on "127.0.0.1:99999": use ADDR:PORT such as 127.0.0.1:8181'],
  ];
  for (const [text, message] of listens) {
    it(`refuses --store-listen ${text}`, () => {
      assert.throws(() => parseListen(text), { message });
    });
  }
});
