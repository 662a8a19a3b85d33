import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { readFile, readdir, stat } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ApiResponse, ChangeInfo, KeyExport, KeyInfo } from '../../../daemon/api/types.js';
import { decodeAssertion, decodePublicKey, type AccountKeyRequestInfo } from '../../../daemon/asserts/index.js';
import { EventStream } from '../../../client/events.js';
import { startDaemon, type DaemonProcess } from '../../helpers/daemon.js';
import { makeTempDir } from '../../helpers/tmp.js';
import { chainsDir } from '../../helpers/vectors.js';

const testRootArmored = readFileSync(join(chainsDir, 'snapd-testkeys/test-root.private.asc'), 'utf8');

/** A JSON request over the socket, for bodies on GET/DELETE and errors as envelopes. */
function call(socketPath: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: ApiResponse }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      { socketPath, method, path, headers: payload ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) } : {} },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, json: JSON.parse(Buffer.concat(chunks).toString()) }));
      },
    );
    req.on('error', reject);
    if (payload) req.write(payload);
    req.end();
  });
}

const errorOf = (res: { json: ApiResponse }) => (res.json as { result: { kind: string; message: string } }).result;

describe('keys API', () => {
  let daemon: DaemonProcess;
  let cleanup: () => Promise<void>;
  const passphrase = 'correct horse battery staple';

  before(async () => {
    const tmp = await makeTempDir();
    cleanup = tmp.cleanup;
    daemon = await startDaemon({ socketPath: join(tmp.dir, 'api.sock'), stateDir: join(tmp.dir, 'state') });
  });
  after(async () => {
    await daemon.stop();
    await cleanup();
  });

  it('creates an RSA-4096 key as a change of kind create-key with progress, without storing the passphrase', async () => {
    const events = new EventStream(daemon.socketPath);
    const phases: string[] = [];
    const units = new Set<string>();
    events.onProgress((e) => {
      phases.push(e.phase);
      units.add(e.unit);
    });
    await events.subscribe('*');
    const res = await call(daemon.socketPath, 'POST', '/v1/keys', { action: 'create', passphrase });
    assert.equal(res.status, 202);
    const id = (res.json as { change: string }).change;
    let change: ChangeInfo;
    for (;;) {
      change = await daemon.transport.call<ChangeInfo>('GET', `/v1/changes/${id}`);
      if (change.ready) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    events.close();
    assert.equal(change.status, 'Done', change.err);
    assert.equal(change.kind, 'create-key');
    assert.deepEqual(change.tasks.map((t) => t.kind), ['create-key']);
    assert.deepEqual(change.tasks[0]!.progress, { phase: 'stored', done: 3, bytes: 3, total: 3, unit: 'steps', speed: 0, eta: 0, percentage: 100 });
    assert.ok(phases.includes('stored'), phases.join(','));
    assert.deepEqual([...units], ['steps'], 'key creation counts steps, not bytes');
    const result = change.result as KeyInfo;
    assert.equal(result.name, 'default');
    assert.match(result['sha3-384'], /^[A-Za-z0-9_-]{64}$/);
    assert.ok(!JSON.stringify(change).includes(passphrase), 'the change holds no passphrase');
    assert.ok(!daemon.logs().includes(passphrase), 'the log holds no passphrase');
    const db = await readFile(join(daemon.stateDir, 'state.db-wal')).catch(() => Buffer.alloc(0));
    assert.ok(!db.includes(passphrase));

    const keys = await daemon.transport.call<KeyInfo[]>('GET', '/v1/keys');
    assert.deepEqual(keys.map((k) => [k.name, k['sha3-384']]), [['default', result['sha3-384']]]);
    const files = await readdir(join(daemon.stateDir, 'keys'));
    assert.equal(files.length, 1);
    assert.equal((await stat(join(daemon.stateDir, 'keys', files[0]!))).mode & 0o777, 0o600);
    assert.equal((await stat(join(daemon.stateDir, 'keys'))).mode & 0o777, 0o700);
    const exported = await daemon.transport.call<KeyExport>('GET', '/v1/keys/default');
    assert.equal(exported.format, 'public-key');
    const key = decodePublicKey(exported.text);
    assert.equal(key.bits, 4096);
    assert.equal(key.id, result['sha3-384']);
  });

  it('imports an armored key and exports its public key and an account-key-request', async () => {
    const res = await call(daemon.socketPath, 'POST', '/v1/keys', { action: 'import', name: 'test-root', armored: testRootArmored, passphrase });
    assert.equal(res.status, 201);
    assert.equal((res.json as { result: KeyInfo }).result['sha3-384'], 'hIedp1AvrWlcDI4uS_qjoFLzjKl5enu4G2FYJpgB3Pj-tUzGlTQBxMBsBmi-tnJR');
    const req = await call(daemon.socketPath, 'GET', '/v1/keys/test-root?format=account-key-request&account-id=acct1', { passphrase });
    assert.equal(req.status, 200);
    const a = decodeAssertion((req.json as { result: KeyExport }).result.text);
    const info = a.info as AccountKeyRequestInfo;
    assert.equal(info.accountId, 'acct1');
    assert.equal(info.name, 'test-root');
    assert.equal(a.authorityId, '');
  });

  const bad: { name: string; method: string; path: string; body?: unknown; status: number; kind: string; message: string }[] = [
    { name: 'an unknown action', method: 'POST', path: '/v1/keys', body: { action: 'rotate' }, status: 400, kind: 'bad-request', message: 'cannot act on keys: action "rotate" is not supported; use "create" or "import"' },
    { name: 'an invalid key name', method: 'POST', path: '/v1/keys', body: { action: 'create', name: 'My Key', passphrase }, status: 400, kind: 'invalid-key-name', message: 'key name "My Key" is not valid; only ASCII letters, digits, and hyphens are allowed (lowercase, at least one letter, no leading, trailing or double hyphen), e.g. "default" or "my-model-key"' },
    { name: 'a duplicate key name', method: 'POST', path: '/v1/keys', body: { action: 'create', name: 'default', passphrase }, status: 409, kind: 'key-exists', message: 'key named "default" already exists in coreforge keyring; choose another name, or delete the old key first with "coreforge delete-key default"' },
    { name: 'a create without passphrase', method: 'POST', path: '/v1/keys', body: { action: 'create', name: 'other' }, status: 400, kind: 'passphrase-required', message: 'cannot create key "other": a non-empty passphrase is required; type it at the prompt, or pass --passphrase-file FILE or COREFORGE_PASSPHRASE' },
    { name: 'an import without source', method: 'POST', path: '/v1/keys', body: { action: 'import', name: 'x', passphrase }, status: 400, kind: 'bad-request', message: 'cannot import key "x": give exactly one source, "armored" (key text) or "gnupg-home" (a gnupg home directory)' },
    { name: 'an import with two sources', method: 'POST', path: '/v1/keys', body: { action: 'import', name: 'x', passphrase, armored: testRootArmored, 'gnupg-home': '/tmp' }, status: 400, kind: 'bad-request', message: 'cannot import key "x": give exactly one source, "armored" (key text) or "gnupg-home" (a gnupg home directory)' },
    { name: 'a relative gnupg home', method: 'POST', path: '/v1/keys', body: { action: 'import', name: 'x', passphrase, 'gnupg-home': '.snap/gnupg' }, status: 400, kind: 'bad-request', message: 'cannot import key "x": "gnupg-home" must be an absolute path, not ".snap/gnupg"' },
    { name: 'an unknown key', method: 'GET', path: '/v1/keys/nope', status: 404, kind: 'key-not-found', message: 'cannot export key named "nope": cannot find key pair in coreforge keyring; list the keys with "coreforge keys"' },
    { name: 'an unknown export format', method: 'GET', path: '/v1/keys/default?format=pem', status: 400, kind: 'bad-request', message: 'cannot export key named "default": format="pem" is not one of public-key, account-key-request' },
    { name: 'a request without account id', method: 'GET', path: '/v1/keys/default?format=account-key-request', body: { passphrase }, status: 400, kind: 'invalid-account-id', message: 'cannot export key named "default" as an account-key-request: an account id is required; pass --account ID (your store account id)' },
    { name: 'a request with a wrong passphrase', method: 'GET', path: '/v1/keys/default?format=account-key-request&account-id=a', body: { passphrase: 'wrong' }, status: 403, kind: 'wrong-passphrase', message: 'cannot export key named "default": wrong passphrase; give the passphrase chosen at create-key or import-key' },
    { name: 'a delete with a wrong passphrase', method: 'DELETE', path: '/v1/keys/default', body: { passphrase: 'wrong' }, status: 403, kind: 'wrong-passphrase', message: 'cannot delete key named "default": wrong passphrase; give the passphrase chosen at create-key or import-key' },
    { name: 'a delete without passphrase', method: 'DELETE', path: '/v1/keys/default', status: 400, kind: 'passphrase-required', message: 'cannot delete key named "default": a non-empty passphrase is required; type it at the prompt, or pass --passphrase-file FILE or COREFORGE_PASSPHRASE' },
    { name: 'a delete of an unknown key', method: 'DELETE', path: '/v1/keys/nope', body: { passphrase }, status: 404, kind: 'key-not-found', message: 'cannot delete key named "nope": cannot find key pair in coreforge keyring; list the keys with "coreforge keys"' },
  ];
  for (const c of bad) {
    it(`answers ${c.name} with ${c.status} ${c.kind}`, async () => {
      const res = await call(daemon.socketPath, c.method, c.path, c.body);
      assert.equal(res.status, c.status);
      assert.deepEqual(errorOf(res), { kind: c.kind, message: c.message });
    });
  }

  it('deletes a key with its passphrase; the name is then free', async () => {
    const res = await call(daemon.socketPath, 'DELETE', '/v1/keys/test-root', { passphrase });
    assert.equal(res.status, 200);
    const names = (await daemon.transport.call<KeyInfo[]>('GET', '/v1/keys')).map((k) => k.name);
    assert.deepEqual(names, ['default']);
    assert.ok(!daemon.logs().includes(passphrase));
  });
});
