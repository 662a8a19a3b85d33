import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import request from 'supertest';
import type { DaemonContext } from '../../../daemon/api/context.js';
import { ApiError } from '../../../daemon/api/errors.js';
import { syncResponse } from '../../../daemon/api/response.js';
import type { Route } from '../../../daemon/api/routes.js';
import { createApp } from '../../../daemon/api/server.js';
import { CoreforgeError } from '../../../daemon/errors.js';
import { daemonCaller } from '../../../daemon/caller/caller.js';

const logged: string[] = [];
const ctx = {
  logger: { debug() {}, info() {}, warn() {}, error: (m: string) => logged.push(m) },
} as unknown as DaemonContext;

const routes: Route[] = [
  { path: '/v1/echo', POST: (req) => syncResponse({ body: req.body, query: req.query }) },
  { path: '/v1/items/:name', GET: (req) => syncResponse({ name: req.params.name }), DELETE: () => syncResponse(null) },
  {
    path: '/v1/fail/:how',
    GET: (req) => {
      if (req.params.how === 'domain') throw new CoreforgeError('change-not-found', 'cannot find change "1": gone');
      if (req.params.how === 'api') throw new ApiError('bad-request', 'cannot frob: no');
      throw new TypeError('undefined is not a function');
    },
  },
];
// In-process over TCP (supertest): no peer credentials to ask for, so the tests say who calls.
const app = createApp(routes, ctx, () => daemonCaller);

describe('route table adapter (in-process)', () => {
  it('passes path parameters, query and the JSON body to the handler', async () => {
    const res = await request(app).post('/v1/echo?x=1').set('Content-Type', 'application/json').send('{"a":[1,2]}');
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.result, { body: { a: [1, 2] }, query: { x: '1' } });
    assert.deepEqual((await request(app).get('/v1/items/pi3')).body.result, { name: 'pi3' });
  });

  it('gives an empty object to a handler when there is no body', async () => {
    const res = await request(app).post('/v1/echo');
    assert.deepEqual(res.body.result.body, {});
  });

  it('lists every method a path answers in Allow', async () => {
    const res = await request(app).put('/v1/items/x');
    assert.equal(res.status, 405);
    assert.equal(res.headers.allow, 'GET, DELETE');
    assert.equal(res.body.result.message, 'cannot PUT /v1/items/x: method not allowed; use GET or DELETE');
  });

  it('maps domain errors by kind, API errors as thrown, and bugs to 500 internal-error with a log line', async () => {
    const domain = await request(app).get('/v1/fail/domain');
    assert.equal(domain.status, 404);
    assert.deepEqual(domain.body.result, { message: 'cannot find change "1": gone', kind: 'change-not-found' });
    const api = await request(app).get('/v1/fail/api');
    assert.equal(api.status, 400);
    assert.equal(api.body.result.kind, 'bad-request');
    const bug = await request(app).get('/v1/fail/bug');
    assert.equal(bug.status, 500);
    assert.deepEqual(bug.body.result, { message: 'internal error: undefined is not a function', kind: 'internal-error' });
    assert.equal(bug.body.status, 'Internal Server Error');
    assert.match(logged.at(-1)!, /GET \/v1\/fail\/bug failed: TypeError: undefined is not a function/);
  });
});
