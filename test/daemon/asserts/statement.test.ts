import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Buffer } from 'node:buffer';
import {
  buildContent,
  decodeAssertion,
  encodeAssertion,
  signStatement,
  signStatementText,
  verifyAssertionSignature,
  type AccountKeyInfo,
  type Assertion,
} from '../../../daemon/asserts/index.js';
import { fixturesDir, loadAssertion, messageOf, modelsDir, signerFromArmored } from './helpers.js';

const signerPromise = signerFromArmored(join(fixturesDir, 'developer1.private.asc'));
const time = new Date('2024-03-04T05:06:07Z');

function modelStatement(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    type: 'model',
    'authority-id': 'developer1',
    'brand-id': 'developer1',
    series: '16',
    model: 'my-model',
    architecture: 'amd64',
    gadget: 'pc',
    kernel: 'pc-kernel',
    timestamp: '2016-08-19T15:58:42+02:00',
    ...extra,
  };
}

test('signing a model statement fills sign-key-sha3-384 and gives an assertion that decodes and verifies', async () => {
  const signer = await signerPromise;
  const a = signStatement(modelStatement(), signer, { time });
  const text = encodeAssertion(a);
  assert.deepEqual(a.content, loadAssertion('chains', 'snapd-testkeys/developer1-pc.model').content);
  const back = decodeAssertion(text);
  verifyAssertionSignature(back, signer.publicKey);
  assert.equal(back.signKeyId, signer.publicKey.id);
});

test('a canonical model JSON signs to the same content the JSON encodes to', async () => {
  const signer = await signerPromise;
  const json = readFileSync(join(modelsDir, 'ubuntu-core-22-amd64.json'), 'utf8');
  const a = signStatementText(json, signer, { time });
  const { type, ...headers } = JSON.parse(json) as Record<string, unknown>;
  assert.deepEqual(a.content, buildContent(type as string, headers, undefined, signer.publicKey.id).content);
  assert.equal(a.info.type, 'model');
});

test('the "body" pseudo-header becomes the body and body-length', async () => {
  const signer = await signerPromise;
  const a = signStatement(
    {
      type: 'account-key-request',
      'account-id': 'developer1',
      name: 'default',
      since: '2024-01-01T00:00:00Z',
      'public-key-sha3-384': signer.publicKey.id,
      body: Buffer.from(loadAssertion('chains', 'snapd-testkeys/developer1.account-key').body).toString(),
    },
    signer,
    { time },
  );
  const body = Buffer.from(a.body).toString();
  assert.match(Buffer.from(a.content).toString(), /\nbody-length: 717\nsign-key-sha3-384: [^\n]+\n\nAcbB/);
  assert.equal(a.headers.body, undefined);
  assert.equal(body.length, 717);
  assert.equal(a.authorityId, '');
});

test('--update-timestamp writes the signing time as the timestamp', async () => {
  const signer = await signerPromise;
  const a = signStatement(modelStatement(), signer, { time, updateTimestamp: true });
  assert.equal(a.headers.timestamp, '2024-03-04T05:06:07Z');
});

test('the signing account-key is cross-checked like snap sign does', async () => {
  const signer = await signerPromise;
  const ak = loadAssertion('chains', 'snapd-testkeys/developer1.account-key') as Assertion<AccountKeyInfo>;
  assert.equal(signStatement(modelStatement(), signer, { time, accountKey: ak }).authorityId, 'developer1');
  assert.equal(
    messageOf(() => signStatement(modelStatement({ 'authority-id': 'other', 'brand-id': 'other' }), signer, { time, accountKey: ak })),
    'authority-id does not match the account-id of the signing account-key',
  );
});

test('bad statements are rejected with snap sign\'s exact messages', async () => {
  const signer = await signerPromise;
  const { type: _t, ...noType } = modelStatement();
  const cases: [string, unknown, string][] = [
    ['no type', noType, 'missing assertion type header'],
    ['a numeric type', modelStatement({ type: 16 }), 'assertion type must be a string, not: 16'],
    ['a list type', modelStatement({ type: ['model', 'x'] }), 'assertion type must be a string, not: [model x]'],
    ['an unknown type', modelStatement({ type: 'modle' }), 'invalid assertion type: modle'],
    ['a body that is not a string', modelStatement({ body: 5 }), 'body if specified must be a string'],
    ['a number header', modelStatement({ series: 16 }), 'header "series": header values must be strings or nested lists or maps with strings as the only scalars: 16'],
    ['a boolean header', modelStatement({ classic: false }), 'header "classic": header values must be strings or nested lists or maps with strings as the only scalars: false'],
    ['a null header', modelStatement({ store: null }), 'header "store": header values must be strings or nested lists or maps with strings as the only scalars: <nil>'],
    ['a nested number', modelStatement({ 'required-snaps': ['a', 1e6] }), 'header "required-snaps": header values must be strings or nested lists or maps with strings as the only scalars: 1e+06'],
    ['an invalid header name', modelStatement({ Display_Name: 'x' }), 'invalid header name: "Display_Name"'],
    ['a statement that is a list', ['model'], 'cannot parse the assertion input as JSON: expected an object of headers, not: [model]'],
    [
      'a model rule violation',
      modelStatement({ kernel: 'pc-kernel=edge' }),
      'cannot assemble assertion model: "kernel" channel selector must be a track name',
    ],
  ];
  for (const [what, statement, want] of cases) assert.equal(messageOf(() => signStatement(statement, signer, { time })), want, what);
  assert.match(messageOf(() => signStatementText('{"type": ', signer, { time })), /^cannot parse the assertion input as JSON: /);
});
