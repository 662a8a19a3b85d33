import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Buffer } from 'node:buffer';
import {
  decodeAssertion,
  decodeStream,
  encodeAssertion,
  encodeStream,
  maxBodySize,
  maxHeadersSize,
} from '../../../daemon/asserts/index.js';
import { isCoreforgeError } from '../../../daemon/errors.js';
import { chainsDir, listVectors, messageOf, modelsDir, readVector } from './helpers.js';

const chainFiles = [
  'canonical-root/root.account-key',
  'canonical-root/canonical.account',
  'generic/generic.account',
  'generic/generic-models.account-key',
  'generic/generic-classic.model',
  'nested-brand/CA5GLZgNQWPhspDQK63Er46Uxz2SO7ez.account-key',
  'nested-brand/nested-20-amd64.model',
  'snapd-testkeys/test-root.account-key',
  'snapd-testkeys/test-store.account-key',
  'snapd-testkeys/testrootorg.account',
  'snapd-testkeys/developer1.account',
  'snapd-testkeys/developer1.account-key',
  'snapd-testkeys/developer1-pc.model',
];

test('every chain vector decodes and encodes back to the same text', () => {
  for (const f of chainFiles) {
    const text = readFileSync(join(chainsDir, f), 'utf8');
    const a = decodeAssertion(text);
    assert.equal(encodeAssertion(a), text, f);
  }
});

test('every canonical model decodes, type-checks as a model and encodes back to the same text', () => {
  const files = listVectors(modelsDir, '.model');
  assert.equal(files.length, 100);
  for (const f of files) {
    const text = readVector('canonical-models', f);
    const a = decodeAssertion(text);
    assert.equal(a.info.type, 'model', f);
    assert.equal(encodeAssertion(a), text, f);
  }
});

test('decoding keeps content, body and signature apart exactly', () => {
  const text = readVector('chains', 'snapd-testkeys/developer1.account-key');
  const a = decodeAssertion(text);
  const [content, signature] = [text.slice(0, text.lastIndexOf('\n\n')), text.slice(text.lastIndexOf('\n\n') + 2, -1)];
  assert.equal(Buffer.from(a.content).toString(), content);
  assert.equal(a.signature, signature);
  assert.equal(a.body.length, 717);
  assert.equal(a.authorityId, 'testrootorg');
  assert.equal(a.signKeyId, 'XCIC_Wvj9_hiAt0b10sDon74oGr3a6xGODkMZqrj63ZzNYUD5N87-ojjPoeN7f1Y');
  assert.equal(a.headers['account-id'], 'developer1');
});

test('a stream of several assertions decodes in order and encodes back to the same text', () => {
  const texts = chainFiles.map((f) => readFileSync(join(chainsDir, f), 'utf8'));
  const stream = texts.join('\n');
  const all = decodeStream(stream);
  assert.deepEqual(
    all.map((a) => a.type),
    chainFiles.map((f) => decodeAssertion(readFileSync(join(chainsDir, f))).type),
  );
  assert.equal(encodeStream(all), stream);
  assert.deepEqual(decodeStream(''), []);
  assert.equal(decodeStream(`${stream}\n\n`).length, chainFiles.length);
});

test('a stream error says which assertion broke', () => {
  const good = readVector('chains', 'generic/generic.account');
  try {
    decodeStream(`${good}\ntype: nope\nsign-key-sha3-384: ${'A'.repeat(64)}\n\nAcLB\n`);
    assert.fail('expected an error');
  } catch (err) {
    assert.ok(isCoreforgeError(err));
    assert.equal(err.message, 'unknown assertion type: "nope"');
    assert.deepEqual(err.details, { index: 1 });
  }
});

const model = readVector('chains', 'snapd-testkeys/developer1-pc.model');
const accountKey = readVector('chains', 'snapd-testkeys/developer1.account-key');
const keyBody = accountKey.slice(accountKey.indexOf('\n\n') + 2, accountKey.lastIndexOf('\n\n'));
const modelSig = model.slice(model.lastIndexOf('\n\n') + 2);

function edit(text: string, from: string, to: string): string {
  assert.ok(text.includes(from), `vector lacks ${from}`);
  return text.replace(from, to);
}

test('bad assertion text is rejected with an exact message', () => {
  const sigLines = modelSig.trimEnd().split('\n');
  const cases: [string, string | Uint8Array, string][] = [
    ['truncated headers', model.slice(0, 120), 'assertion content/signature separator not found'],
    ['missing signature', `${model.slice(0, model.lastIndexOf('\n\n'))}\n\n`, 'empty assertion signature'],
    [
      'missing signature after a body',
      `${accountKey.slice(0, accountKey.lastIndexOf('\n\n'))}\n\n`,
      'empty assertion signature',
    ],
    [
      'truncated body',
      accountKey.slice(0, accountKey.indexOf('\n\n') + 300),
      "assertion body length and declared body-length don't match: 0 != 717",
    ],
    [
      'truncated signature',
      `${model.slice(0, model.lastIndexOf('\n\n'))}\n\n${sigLines.slice(0, 3).join('\n')}\n`,
      'cannot decode signature: unexpected EOF',
    ],
    ['text after the signature', `${model}\ngarbage: here\n`, 'unexpected data after the assertion signature at byte 979: decode several assertions as a stream'],
    ['base64 junk glued to the signature', `${model.trimEnd()}junk\n`, 'signature has spurious trailing data'],
    [
      'a stray character in the signature',
      `${model.trimEnd()}!\n`,
      `cannot decode signature: illegal base64 data at input byte ${modelSig.trimEnd().length}`,
    ],
    [
      'a signature with non-zero padding bits',
      `${model.slice(0, model.lastIndexOf('\n\n'))}\n\nAcLBXAQAAQoABgUCV9AFCR==\n`,
      'cannot decode signature: illegal base64 data at input byte 21',
    ],
    [
      'body-length mismatch',
      edit(accountKey, 'body-length: 717', 'body-length: 716'),
      "assertion body length and declared body-length don't match: 717 != 716",
    ],
    ['revision with leading zeros', edit(model, 'series: 16', 'revision: 02\nseries: 16'), 'assertion: "revision" header has invalid prefix zeros: 02'],
    ['negative revision', edit(model, 'series: 16', 'revision: -1\nseries: 16'), 'assertion: revision should be positive: -1'],
    ['revision not a number', edit(model, 'series: 16', 'revision: two\nseries: 16'), 'assertion: "revision" header is not an integer: two'],
    ['format with leading zeros', edit(model, 'series: 16', 'format: 00\nseries: 16'), 'assertion: "format" header has invalid prefix zeros: 00'],
    ['body-length with leading zeros', edit(accountKey, 'body-length: 717', 'body-length: 0717'), 'assertion: "body-length" header has invalid prefix zeros: 0717'],
    [
      'oversized headers',
      edit(model, 'gadget: pc', `gadget: pc\nfiller: ${'x'.repeat(maxHeadersSize)}`),
      'error reading assertion headers: maximum size exceeded while looking for delimiter "\\n\\n"',
    ],
    [
      'oversized body',
      edit(accountKey, 'body-length: 717', `body-length: ${maxBodySize + 1}`),
      `assertion body length ${maxBodySize + 1} exceeds maximum body size`,
    ],
    ['missing type', edit(model, 'type: model\n', ''), 'assertion: "type" header is mandatory'],
    ['empty type', edit(model, 'type: model', 'type: '), 'assertion: "type" header should not be empty'],
    ['type not a string', edit(model, 'type: model', 'type:\n  - model'), 'assertion: "type" header must be a string'],
    ['unknown type', edit(model, 'type: model', 'type: modle'), 'unknown assertion type: "modle"'],
    ['invalid header name', edit(model, 'gadget: pc', 'Gadget: pc'), 'parsing assertion headers: invalid header name: "Gadget"'],
    ['header name with underscore', edit(model, 'gadget: pc', 'gad_get: pc'), 'parsing assertion headers: invalid header name: "gad_get"'],
    ['repeated header', edit(model, 'gadget: pc', 'gadget: pc\ngadget: pc'), 'parsing assertion headers: repeated header: "gadget"'],
    ['missing authority', edit(model, 'authority-id: developer1\n', ''), 'assertion: "authority-id" header is mandatory'],
    ['missing primary key', edit(model, 'model: my-model\n', ''), 'assertion model: "model" header is mandatory'],
    ['primary key with a slash', edit(model, 'series: 16', 'series: 16/x'), `assertion model: "series" primary key header cannot contain '/'`],
    ['missing sign key', edit(model, /sign-key-sha3-384: .*\n/.exec(model)?.[0] ?? '', ''), 'assertion: "sign-key-sha3-384" header is mandatory'],
    [
      'sign key of the wrong size',
      edit(model, 'sign-key-sha3-384: EAD4', 'sign-key-sha3-384: AAAAEAD4'),
      'assertion: "sign-key-sha3-384" header does not have the expected bit length: 408',
    ],
    [
      'header text that is not utf8',
      Buffer.from(edit(model, 'gadget: pc', 'gadget: p\u00ffc'), 'latin1'),
      'parsing assertion headers: header is not utf8',
    ],
    [
      'signature of another format version',
      `${model.slice(0, model.lastIndexOf('\n\n'))}\n\n${Buffer.from([2, 0xc2, 0]).toString('base64')}\n`,
      'unsupported signature format version: 2',
    ],
    [
      'signature with spurious trailing data',
      `${model.slice(0, model.lastIndexOf('\n\n'))}\n\n${Buffer.concat([Buffer.from(modelSig.replaceAll('\n', ''), 'base64'), Buffer.from([1, 2, 3])]).toString('base64')}\n`,
      'signature has spurious trailing data',
    ],
    [
      'a key body instead of a signature',
      `${model.slice(0, model.lastIndexOf('\n\n'))}\n\n${keyBody}\n`,
      'expected signature, got instead: *packet.PublicKey',
    ],
  ];
  for (const [what, text, want] of cases) {
    assert.equal(messageOf(() => decodeAssertion(text)), want, what);
  }
});

test('oversized signatures are rejected', () => {
  const text = `${model.slice(0, model.lastIndexOf('\n\n'))}\n\n${'A'.repeat(128 * 1024 + 4)}\n`;
  assert.equal(
    messageOf(() => decodeAssertion(text)),
    'error reading assertion signature: maximum size exceeded while looking for delimiter "\\n\\n"',
  );
});

test('a missing trailing newline is accepted, extra trailing newlines too', () => {
  assert.equal(encodeAssertion(decodeAssertion(model.trimEnd())), model);
  assert.equal(encodeAssertion(decodeAssertion(`${model}\n\n`)), model);
});
