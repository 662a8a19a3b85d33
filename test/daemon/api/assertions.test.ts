import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { AddAssertionsResult, ApiResponse, AssertionEntry, AssertionVerdict, SignResult } from '../../../daemon/api/types.js';
import { decodeStream } from '../../../daemon/asserts/index.js';
import { startDaemon, type DaemonProcess } from '../../helpers/daemon.js';
import { chainsDir as chains } from '../../helpers/vectors.js';
import { makeTempDir } from '../../helpers/tmp.js';

const vector = (f: string) => readFileSync(join(chains, f), 'utf8');
const developer1Armored = readFileSync(join(import.meta.dirname, '../asserts/fixtures/developer1.private.asc'), 'utf8');

function call(
  socketPath: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, unknown>; text: string; json: ApiResponse }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      { socketPath, method, path, headers: { ...headers, ...(payload ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) } : {}) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          let json: ApiResponse = { type: 'error' } as ApiResponse;
          try {
            json = JSON.parse(text);
          } catch {
            // a raw assertion stream
          }
          resolve({ status: res.statusCode!, headers: res.headers, text, json });
        });
      },
    );
    req.on('error', reject);
    if (payload) req.write(payload);
    req.end();
  });
}

const resultOf = <T>(res: { json: ApiResponse }) => (res.json as { result: T }).result;

const model = {
  type: 'model',
  'authority-id': 'developer1',
  'brand-id': 'developer1',
  series: '16',
  model: 'api-model',
  architecture: 'amd64',
  gadget: 'pc',
  kernel: 'pc-kernel',
  timestamp: '2021-01-01T00:00:00Z',
};

describe('sign and assertions API', () => {
  let daemon: DaemonProcess;
  let cleanup: () => Promise<void>;
  const passphrase = 'api pass';
  const sign = (statement: string, extra: Record<string, unknown> = {}) =>
    call(daemon.socketPath, 'POST', '/v1/sign', { key: 'developer1', passphrase, statement, ...extra });

  before(async () => {
    const tmp = await makeTempDir();
    cleanup = tmp.cleanup;
    daemon = await startDaemon({ socketPath: join(tmp.dir, 'api.sock'), stateDir: join(tmp.dir, 'state') });
    await daemon.transport.call('POST', '/v1/keys', { action: 'import', name: 'developer1', armored: developer1Armored, passphrase });
  });
  after(async () => {
    await daemon.stop();
    await cleanup();
  });

  const badStatements: [string, string, string | RegExp][] = [
    ['input that is not JSON', 'model: pc', /^cannot parse the assertion input as JSON: /],
    ['a JSON array', '[{"type": "model"}]', 'cannot parse the assertion input as JSON: expected an object of headers, not: [map[type:model]]'],
    ['a number in a header', JSON.stringify({ ...model, revision: 2 }), 'header "revision": header values must be strings or nested lists or maps with strings as the only scalars: 2'],
    ['a boolean in a nested header', JSON.stringify({ ...model, extra: { on: true } }), 'header "extra": header values must be strings or nested lists or maps with strings as the only scalars: true'],
    ['null in a list', JSON.stringify({ ...model, 'required-snaps': ['a', null] }), 'header "required-snaps": header values must be strings or nested lists or maps with strings as the only scalars: <nil>'],
    ['a missing type', JSON.stringify({ ...model, type: undefined }), 'missing assertion type header'],
    ['a type that is not a string', JSON.stringify({ ...model, type: 7 }), 'assertion type must be a string, not: 7'],
    ['an unknown type', JSON.stringify({ ...model, type: 'gizmo' }), 'invalid assertion type: gizmo'],
    ['an invalid header name', JSON.stringify({ ...model, Model: 'x' }), 'invalid header name: "Model"'],
    ['an uppercase model name', JSON.stringify({ ...model, model: 'PC' }), /^cannot assemble assertion model: /],
  ];
  for (const [what, statement, message] of badStatements) {
    it(`refuses to sign ${what} with snapd's error`, async () => {
      const res = await sign(statement);
      assert.equal(res.status, 400);
      const err = resultOf<{ kind: string; message: string }>(res);
      assert.equal(err.kind, 'invalid-assertion');
      if (typeof message === 'string') assert.equal(err.message, message);
      else assert.match(err.message, message);
    });
  }

  it('refuses to sign with an unknown key or a wrong passphrase', async () => {
    const unknown = await call(daemon.socketPath, 'POST', '/v1/sign', { key: 'nope', passphrase, statement: JSON.stringify(model) });
    assert.equal(unknown.status, 404);
    assert.equal(resultOf<{ message: string }>(unknown).message, 'cannot use "nope" key: cannot find key pair in coreforge keyring; list the keys with "coreforge keys"');
    const wrong = await call(daemon.socketPath, 'POST', '/v1/sign', { key: 'developer1', passphrase: 'no', statement: JSON.stringify(model) });
    assert.equal(wrong.status, 403);
    assert.equal(resultOf<{ kind: string }>(wrong).kind, 'wrong-passphrase');
    const noStatement = await call(daemon.socketPath, 'POST', '/v1/sign', { key: 'developer1', passphrase });
    assert.equal(resultOf<{ kind: string }>(noStatement).kind, 'bad-request');
  });

  it('signs a model, warning that no account-key could cross-check it, and can update its timestamp', async () => {
    const res = await sign(JSON.stringify(model));
    assert.equal(res.status, 200, res.text);
    const out = resultOf<SignResult>(res);
    assert.equal(out.warning, 'WARNING: could not fetch account-key to cross-check signed assertion with key constraints.');
    const [a] = decodeStream(out.assertion);
    assert.equal(a!.headers.timestamp, '2021-01-01T00:00:00Z');
    assert.equal(a!.signKeyId, 'EAD4DbLxK_kn0gzNCXOs3kd6DeMU3f-L6BEsSEuJGBqCORR0gXkdDxMbOm11mRFu');
    const updated = decodeStream(resultOf<SignResult>(await sign(JSON.stringify(model), { 'update-timestamp': true })).assertion)[0]!;
    assert.ok(Math.abs(Date.parse(updated.headers.timestamp as string) - Date.now()) < 60_000);
  });

  it('verifies per assertion, refusing what has no chain to a trusted root and accepting extra roots', async () => {
    const signed = resultOf<SignResult>(await sign(JSON.stringify(model))).assertion;
    const untrusted = resultOf<AssertionVerdict[]>(await call(daemon.socketPath, 'POST', '/v1/assertions/verify', { assertions: signed }));
    assert.equal(untrusted.length, 1);
    assert.equal(untrusted[0]!.valid, false);
    assert.equal(untrusted[0]!.kind, 'missing-assertion');
    const trusted = [vector('snapd-testkeys/test-root.account-key'), vector('snapd-testkeys/testrootorg.account')].join('\n');
    const chain = ['test-store.account-key', 'developer1.account-key', 'developer1.account'].map((f) => vector(`snapd-testkeys/${f}`));
    const verdicts = resultOf<AssertionVerdict[]>(
      await call(daemon.socketPath, 'POST', '/v1/assertions/verify', { assertions: [signed, ...chain].join('\n'), trusted }),
    );
    assert.deepEqual(verdicts.map((v) => [v.type, v.valid]), [['model', true], ['account-key', true], ['account-key', true], ['account', true]]);
    assert.deepEqual(verdicts[0]!['primary-key'], ['16', 'developer1', 'api-model']);
    assert.equal(verdicts[0]!.root, 'hIedp1AvrWlcDI4uS_qjoFLzjKl5enu4G2FYJpgB3Pj-tUzGlTQBxMBsBmi-tnJR');
    const tampered = signed.replace('api-model', 'api-modem');
    const [bad] = resultOf<AssertionVerdict[]>(await call(daemon.socketPath, 'POST', '/v1/assertions/verify', { assertions: [tampered, ...chain].join('\n'), trusted }));
    assert.equal(bad!.valid, false);
    assert.equal(bad!.kind, 'invalid-signature');
    const garbage = await call(daemon.socketPath, 'POST', '/v1/assertions/verify', { assertions: 'type: model\n' });
    assert.equal(garbage.status, 400);
    assert.equal(resultOf<{ kind: string }>(garbage).kind, 'invalid-assertion');
  });

  it('adds roots and a chain, then signs with --chain, cross-checks authority-id, and lists as JSON or a raw stream', async () => {
    const roots = [vector('snapd-testkeys/test-root.account-key'), vector('snapd-testkeys/testrootorg.account')].join('\n');
    const trusted = resultOf<AddAssertionsResult>(await call(daemon.socketPath, 'POST', '/v1/assertions', { assertions: roots, trusted: true }));
    assert.deepEqual(trusted.added.map((a) => a.type), ['account-key', 'account']);
    const chain = ['developer1.account', 'developer1.account-key', 'test-store.account-key'].map((f) => vector(`snapd-testkeys/${f}`)).join('\n');
    const added = resultOf<AddAssertionsResult>(await call(daemon.socketPath, 'POST', '/v1/assertions', { assertions: chain }));
    assert.equal(added.added.length, 3);

    const res = await sign(JSON.stringify(model), { chain: true });
    const out = resultOf<SignResult>(res);
    assert.equal(out.warning, undefined);
    assert.deepEqual(decodeStream(out.assertion).map((a) => a.type), ['model', 'account-key', 'account']);
    const mismatch = await sign(JSON.stringify({ ...model, 'authority-id': 'someone', 'brand-id': 'someone' }));
    assert.equal(resultOf<{ message: string }>(mismatch).message, 'authority-id does not match the account-id of the signing account-key');

    const ack = resultOf<AddAssertionsResult>(await call(daemon.socketPath, 'POST', '/v1/assertions', { assertions: out.assertion }));
    assert.deepEqual(ack.added.map((a) => a.type), ['model']);

    const listed = resultOf<AssertionEntry[]>(await call(daemon.socketPath, 'GET', '/v1/assertions/account-key?account-id=developer1'));
    assert.deepEqual(listed.map((a) => a['primary-key'][0]), ['EAD4DbLxK_kn0gzNCXOs3kd6DeMU3f-L6BEsSEuJGBqCORR0gXkdDxMbOm11mRFu']);
    assert.equal(listed[0]!.text, vector('snapd-testkeys/developer1.account-key'));
    const raw = await call(daemon.socketPath, 'GET', '/v1/assertions/account', undefined, { Accept: 'application/x.ubuntu.assertion' });
    assert.equal(raw.status, 200);
    assert.equal(raw.headers['content-type'], 'application/x.ubuntu.assertion');
    assert.equal(raw.headers['x-ubuntu-assertions-count'], '3');
    assert.deepEqual(decodeStream(raw.text).map((a) => a.headers['account-id']).sort(), ['canonical', 'developer1', 'testrootorg']);
    const unknown = await call(daemon.socketPath, 'GET', '/v1/assertions/gizmo');
    assert.equal(resultOf<{ kind: string }>(unknown).kind, 'unknown-assertion-type');
  });

  it('refuses to add what does not verify, with the reason', async () => {
    const res = await call(daemon.socketPath, 'POST', '/v1/assertions', { assertions: vector('generic/generic-classic.model') });
    assert.equal(res.status, 400);
    assert.deepEqual(resultOf(res), {
      kind: 'missing-assertion',
      message: 'cannot add model "16/generic/generic-classic": no matching public key "d-JcZF9nD9eBw7bwMnH61x-bklnQOhQud1Is6o_cn2wTj8EYDi9musrIT9z2MdAa" for signature by "generic"',
      // what is missing, as data a client can act on (fetch that account-key), not only in the message
      value: { type: 'account-key', primaryKey: ['d-JcZF9nD9eBw7bwMnH61x-bklnQOhQud1Is6o_cn2wTj8EYDi9musrIT9z2MdAa'], index: 0 },
    });
  });
});
