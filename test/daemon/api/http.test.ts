import assert from 'node:assert/strict';
import { request } from 'node:http';
import { before, describe, it } from 'node:test';
import type { ApiResponse, ChangeInfo, SystemInfo } from '../../../daemon/api/types.js';
import { useDaemon, waitChangeReady, type DaemonProcess } from '../../helpers/daemon.js';

/** A raw request over the daemon's socket, for bodies and headers the client never sends. */
function rawRequest(
  socketPath: string,
  method: string,
  path: string,
  body?: string | Buffer,
  headers: Record<string, string | number> = {},
): Promise<{ status: number; headers: Record<string, unknown>; json: ApiResponse }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, json: JSON.parse(Buffer.concat(chunks).toString()) }));
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

const waitReady = (daemon: DaemonProcess, id: string): Promise<ChangeInfo> => waitChangeReady(daemon.transport, id);

describe('coreforged HTTP API over its Unix socket', () => {
  const use = useDaemon();
  let daemon: DaemonProcess;
  before(() => (daemon = use.daemon()));

  it('answers system-info with version, state dir, socket, uptime and tool versions', async () => {
    const res = await rawRequest(daemon.socketPath, 'GET', '/v1/system-info');
    assert.equal(res.status, 200);
    assert.equal(res.json.type, 'sync');
    assert.equal(res.json['status-code'], 200);
    assert.equal(res.json.status, 'OK');
    const info = (res.json as { result: SystemInfo }).result;
    assert.equal(info.version, '0.1.0');
    assert.equal(info['state-dir'], daemon.stateDir);
    assert.equal(info.socket, daemon.socketPath);
    assert.ok(info['uptime-seconds'] >= 0);
    const names = info.tools.map((t) => t.name);
    for (const tool of ['unsquashfs', 'mksquashfs', 'mkfs.ext4', 'mkfs.vfat', 'mcopy', 'fakeroot', 'sfdisk']) {
      assert.ok(names.includes(tool), `${tool} reported`);
    }
    const mkfs = info.tools.find((t) => t.name === 'mkfs.ext4')!;
    assert.equal(mkfs.present, true);
    assert.match(mkfs.version!, /^\d+\.\d+/);
    assert.equal(mkfs.package, 'e2fsprogs');
  });

  const badRequests: {
    name: string;
    method: string;
    path: string;
    body?: string | Buffer;
    headers?: Record<string, string | number>;
    status: number;
    kind: string;
    message: RegExp;
  }[] = [
    { name: 'an unknown path', method: 'GET', path: '/v1/nothing-here', status: 404, kind: 'not-found', message: /^cannot find GET \/v1\/nothing-here: no such endpoint/ },
    { name: 'a path outside /v1', method: 'GET', path: '/', status: 404, kind: 'not-found', message: /no such endpoint/ },
    { name: 'a wrong method', method: 'DELETE', path: '/v1/system-info', status: 405, kind: 'method-not-allowed', message: /^cannot DELETE \/v1\/system-info: method not allowed; use GET$/ },
    {
      name: 'malformed JSON',
      method: 'POST',
      path: '/v1/changes/1',
      body: '{"action": ',
      headers: { 'Content-Type': 'application/json' },
      status: 400,
      kind: 'malformed-json',
      message: /^cannot decode request body as JSON: /,
    },
    {
      name: 'JSON that is an array',
      method: 'POST',
      path: '/v1/changes/1',
      body: '["abort"]',
      headers: { 'Content-Type': 'application/json' },
      status: 400,
      kind: 'bad-request',
      message: /^cannot use request body: expected a JSON object, got an array$/,
    },
    {
      name: 'JSON that is a string',
      method: 'POST',
      path: '/v1/changes/1',
      body: '"abort"',
      headers: { 'Content-Type': 'application/json' },
      status: 400,
      kind: 'bad-request',
      message: /expected a JSON object, got string$/,
    },
    {
      name: 'JSON null',
      method: 'POST',
      path: '/v1/changes/1',
      body: 'null',
      headers: { 'Content-Type': 'application/json' },
      status: 400,
      kind: 'bad-request',
      message: /expected a JSON object, got null$/,
    },
    {
      name: 'a wrong content type',
      method: 'POST',
      path: '/v1/changes/1',
      body: 'action=abort',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      status: 400,
      kind: 'unsupported-content-type',
      message: /^cannot read request body: content type "application\/x-www-form-urlencoded" is not supported; send JSON with "Content-Type: application\/json"$/,
    },
    {
      name: 'a body without content type',
      method: 'POST',
      path: '/v1/changes/1',
      body: '{}',
      status: 400,
      kind: 'unsupported-content-type',
      message: /content type "\(none\)" is not supported/,
    },
    {
      name: 'a body over 1 MiB',
      method: 'POST',
      path: '/v1/changes/1',
      body: Buffer.alloc(1024 * 1024 + 10, 0x20),
      headers: { 'Content-Type': 'application/json' },
      status: 413,
      kind: 'body-too-large',
      message: /over the limit of 1048576 bytes \(1 MiB\)$/,
    },
    {
      name: 'a chunked body over 1 MiB',
      method: 'POST',
      path: '/v1/changes/1',
      body: Buffer.alloc(1024 * 1024 + 10, 0x20),
      headers: { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' },
      status: 413,
      kind: 'body-too-large',
      message: /over the limit of 1048576 bytes \(1 MiB\)$/,
    },
    { name: 'an unknown change id', method: 'GET', path: '/v1/changes/999999', status: 404, kind: 'change-not-found', message: /^cannot find change "999999": no change has that id/ },
    { name: 'a change id that is not a number', method: 'GET', path: '/v1/changes/abc', status: 404, kind: 'change-not-found', message: /cannot find change "abc"/ },
    {
      name: 'an unknown change action',
      method: 'POST',
      path: '/v1/changes/1',
      body: '{"action":"retry"}',
      headers: { 'Content-Type': 'application/json' },
      status: 400,
      kind: 'bad-request',
      message: /action "retry" is not supported; use \{"action":"abort"\}/,
    },
    { name: 'an unknown change selection', method: 'GET', path: '/v1/changes?select=some', status: 400, kind: 'bad-request', message: /select="some" is not one of all, in-progress, ready/ },
  ];

  for (const c of badRequests) {
    it(`answers ${c.name} with ${c.status} and kind ${c.kind}`, async () => {
      const res = await rawRequest(daemon.socketPath, c.method, c.path, c.body, c.headers);
      assert.equal(res.status, c.status);
      assert.equal(res.json.type, 'error');
      assert.equal(res.json['status-code'], c.status);
      const result = (res.json as { result: { kind: string; message: string } }).result;
      assert.equal(result.kind, c.kind);
      assert.match(result.message, c.message);
    });
  }

  it('names the allowed methods in the Allow header of a 405', async () => {
    const res = await rawRequest(daemon.socketPath, 'PUT', '/v1/changes/1');
    assert.equal(res.headers.allow, 'GET, POST');
  });

  it('refuses to abort a change that is already Done', async () => {
    const id = await daemon.transport.call<string>('POST', '/v1/test/changes', { tasks: [{ kind: 'test-sleep', data: { ms: 20, steps: 2 } }] });
    assert.equal((await waitReady(daemon, id)).status, 'Done');
    const res = await rawRequest(daemon.socketPath, 'POST', `/v1/changes/${id}`, '{"action":"abort"}', { 'Content-Type': 'application/json' });
    assert.equal(res.status, 400);
    const result = (res.json as { result: { kind: string; message: string } }).result;
    assert.equal(result.kind, 'change-not-abortable');
    assert.equal(result.message, `cannot abort change ${id}: it is already Done; only changes in Do or Doing can be aborted`);
  });

  it('answers an async change with 202 and its id, then shows it with tasks, log and result', async () => {
    const res = await rawRequest(
      daemon.socketPath,
      'POST',
      '/v1/test/changes',
      JSON.stringify({ summary: 'two naps', tasks: [{ kind: 'test-sleep', data: { ms: 20, steps: 2 } }, { kind: 'test-sleep', data: { ms: 30, steps: 3 } }] }),
      { 'Content-Type': 'application/json' },
    );
    assert.equal(res.status, 202);
    assert.equal(res.json.type, 'async');
    const id = (res.json as { change: string }).change;
    const change = await waitReady(daemon, id);
    assert.equal(change.status, 'Done');
    assert.equal(change.summary, 'two naps');
    assert.deepEqual(change.result, { slept: 30 });
    assert.deepEqual(change.tasks.map((t) => t.status), ['Done', 'Done']);
    assert.equal(change.tasks[0]!.log[0]!.message, 'sleeping 20 ms');
    assert.equal(change.tasks[1]!.progress!.percentage, 100);
    const listed = await daemon.transport.call<ChangeInfo[]>('GET', '/v1/changes?select=ready');
    assert.ok(listed.some((c) => c.id === id));
    const inProgress = await daemon.transport.call<ChangeInfo[]>('GET', '/v1/changes?select=in-progress');
    assert.ok(!inProgress.some((c) => c.id === id));
  });

  it('aborts a running change: the change ends Abort and its later tasks are held', async () => {
    const id = await daemon.transport.call<string>('POST', '/v1/test/changes', {
      tasks: [{ kind: 'test-sleep', data: { ms: 5000 } }, { kind: 'test-sleep', data: { ms: 10 } }],
    });
    await new Promise((r) => setTimeout(r, 200));
    const aborted = await daemon.transport.call<ChangeInfo>('POST', `/v1/changes/${id}`, { action: 'abort' });
    assert.equal(aborted.status, 'Abort');
    assert.equal(aborted.err, 'aborted by request');
    assert.deepEqual(aborted.tasks.map((t) => t.status), ['Abort', 'Hold']);
  });

  it('ends a change in Error with the task error message and kind', async () => {
    const id = await daemon.transport.call<string>('POST', '/v1/test/changes', {
      tasks: [{ kind: 'test-fail', data: { message: 'cannot frobnicate: the frob is missing; add one' } }, { kind: 'test-sleep' }],
    });
    const change = await waitReady(daemon, id);
    assert.equal(change.status, 'Error');
    assert.equal(change.err, 'cannot frobnicate: the frob is missing; add one');
    assert.equal(change['err-kind'], 'bad-request');
    assert.deepEqual(change.tasks.map((t) => t.status), ['Error', 'Hold']);
  });
});
