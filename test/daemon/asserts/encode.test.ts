import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Buffer } from 'node:buffer';
import { buildContent, decodeAssertion } from '../../../daemon/asserts/index.js';
import { listVectors, messageOf, modelsDir } from './helpers.js';

const keyId = 'EAD4DbLxK_kn0gzNCXOs3kd6DeMU3f-L6BEsSEuJGBqCORR0gXkdDxMbOm11mRFu';

function contentText(type: string, headers: Record<string, unknown>, body?: string, signKey = keyId): string {
  return Buffer.from(buildContent(type, headers, body, signKey).content).toString('utf8');
}

test('every canonical model JSON encodes to exactly the signed content of its .model', () => {
  let compared = 0;
  for (const f of listVectors(modelsDir, '.json')) {
    const modelPath = join(modelsDir, f.replace(/\.json$/, '.model'));
    let signed: Buffer;
    try {
      signed = readFileSync(modelPath);
    } catch {
      continue; // two JSON inputs ship without their signed output
    }
    const a = decodeAssertion(signed);
    const { type, ...headers } = JSON.parse(readFileSync(join(modelsDir, f), 'utf8')) as Record<string, unknown>;
    assert.ok(typeof headers.timestamp === 'string', `${f} carries its timestamp`);
    assert.equal(contentText(type as string, headers, undefined, a.signKeyId), Buffer.from(a.content).toString('utf8'), f);
    compared++;
  }
  assert.equal(compared, 87);
});

test('headers are ordered: type, format, authority, revision, primary key, others sorted, body-length, sign key', () => {
  const text = contentText(
    'snap-declaration',
    {
      'snap-name': 'hello',
      zeta: 'z',
      'authority-id': 'canonical',
      revision: '3',
      format: '1',
      'snap-id': 'snapidsnapidsnapidsnapidsnapid12',
      'publisher-id': 'canonical',
      series: '16',
      alpha: 'a',
      timestamp: '2024-01-01T00:00:00Z',
    },
    'body text',
  );
  assert.equal(
    text,
    [
      'type: snap-declaration',
      'format: 1',
      'authority-id: canonical',
      'revision: 3',
      'series: 16',
      'snap-id: snapidsnapidsnapidsnapidsnapid12',
      'alpha: a',
      'publisher-id: canonical',
      'snap-name: hello',
      'timestamp: 2024-01-01T00:00:00Z',
      'zeta: z',
      'body-length: 9',
      `sign-key-sha3-384: ${keyId}`,
      '',
      'body text',
    ].join('\n'),
  );
});

test('zero format and revision, an empty body and a default provenance are left out', () => {
  const headers = {
    'authority-id': 'canonical',
    format: '0',
    revision: '0',
    'snap-sha3-384': 'a'.repeat(64),
    provenance: 'global-upload',
    'snap-id': 'snapidsnapidsnapidsnapidsnapid12',
    'snap-size': '100',
    'snap-revision': '1',
    'developer-id': 'dev',
    timestamp: '2024-01-01T00:00:00Z',
  };
  const text = contentText('snap-revision', headers, '');
  assert.equal(
    text,
    [
      'type: snap-revision',
      'authority-id: canonical',
      `snap-sha3-384: ${'a'.repeat(64)}`,
      'developer-id: dev',
      'snap-id: snapidsnapidsnapidsnapidsnapid12',
      'snap-revision: 1',
      'snap-size: 100',
      'timestamp: 2024-01-01T00:00:00Z',
      `sign-key-sha3-384: ${keyId}`,
    ].join('\n'),
  );
  const { provenance: _omitted, ...withoutProvenance } = headers;
  assert.equal(contentText('snap-revision', withoutProvenance), text);
  assert.match(contentText('snap-revision', { ...headers, provenance: 'other' }), /\nsnap-sha3-384: a+\nprovenance: other\n/);
});

test('types without an authority have no authority-id line', () => {
  const text = contentText('serial-request', { 'brand-id': 'b', model: 'm' });
  assert.equal(text, `type: serial-request\nbrand-id: b\nmodel: m\nsign-key-sha3-384: ${keyId}`);
});

test('bad headers for encoding are rejected with an exact message', () => {
  const base = {
    'authority-id': 'brand',
    series: '16',
    'brand-id': 'brand',
    model: 'pc',
    architecture: 'amd64',
    gadget: 'pc',
    kernel: 'pc-kernel',
    timestamp: '2024-01-01T00:00:00Z',
  };
  const cases: [string, string, Record<string, unknown>, string][] = [
    ['a number', 'model', { ...base, series: 16 }, 'header "series": header values must be strings or nested lists or maps with strings as the only scalars: 16'],
    ['a boolean', 'model', { ...base, classic: true }, 'header "classic": header values must be strings or nested lists or maps with strings as the only scalars: true'],
    ['a null', 'model', { ...base, store: null }, 'header "store": header values must be strings or nested lists or maps with strings as the only scalars: <nil>'],
    ['an invalid header name', 'model', { ...base, Store: 'x' }, 'invalid header name: "Store"'],
    ['an invalid map key', 'model', { ...base, extra: { Bad: 'x' } }, 'invalid map entry key: "Bad"'],
    ['an unknown type', 'modle', base, 'unknown assertion type: "modle"'],
    ['no authority', 'model', { ...base, 'authority-id': undefined }, '"authority-id" header is mandatory'],
    ['an authority on a no-authority type', 'serial-request', { 'authority-id': 'x' }, '"serial-request" assertion cannot have authority-id set'],
    ['a format too new', 'model', { ...base, format: '1' }, 'cannot sign "model" assertion with format 1 higher than max supported format 0'],
    [
      'a format too old for the features',
      'system-user',
      { 'authority-id': 'b', 'brand-id': 'b', email: 'a@b.c', serials: ['1'], models: ['m'] },
      'cannot sign "system-user" assertion with format set to 0 lower than min format 1 covering included features',
    ],
    ['a revision with leading zeros', 'model', { ...base, revision: '01' }, '"revision" header has invalid prefix zeros: 01'],
    ['a missing primary key', 'model', { ...base, model: undefined }, '"model" header is mandatory'],
    ['an empty primary key', 'model', { ...base, model: '' }, '"model" header should not be empty'],
  ];
  for (const [what, type, headers, want] of cases) {
    assert.equal(messageOf(() => buildContent(type, headers, undefined, keyId)), want, what);
  }
  assert.equal(
    messageOf(() => buildContent('model', base, Buffer.from([0xff]), keyId)),
    'assertion body is not utf8',
  );
});
