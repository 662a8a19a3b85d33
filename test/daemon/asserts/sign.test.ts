import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import * as openpgp from 'openpgp';
import {
  decodeAssertion,
  decodeSignature,
  encodeAssertion,
  openpgpKeyId,
  signAssertion,
  signContent,
  signerFromKeyObject,
  signerFromOpenPGP,
  verifyAssertionSignature,
  type Assertion,
  type Signer,
} from '../../../daemon/asserts/index.js';
import { chainsDir, fixturesDir, messageOf, readVector, signerFromArmored } from './helpers.js';

const meta = new Set(['type', 'body-length', 'sign-key-sha3-384']);

/** Signs a decoded vector again from its headers and body, at its original signature time. */
function resign(a: Assertion, signer: Signer): string {
  const sig = decodeSignature(a.signature);
  const headers = Object.fromEntries(Object.entries(a.headers).filter(([k]) => !meta.has(k)));
  const again = signAssertion(a.type, headers, a.body, signer, {
    time: sig.creationTime,
    flavour: sig.issuerKeyId ? 'gnupg' : 'snapd',
  });
  return encodeAssertion(again);
}

async function testSigners() {
  return {
    root: await signerFromArmored(join(chainsDir, 'snapd-testkeys/test-root.private.asc')),
    store: await signerFromArmored(join(chainsDir, 'snapd-testkeys/test-store.private.asc')),
    developer1: await signerFromArmored(join(fixturesDir, 'developer1.private.asc')),
  };
}

test('re-signing developer1.account-key with the test-store key that signed it reproduces the file byte for byte', async () => {
  const { store } = await testSigners();
  const text = readVector('chains', 'snapd-testkeys/developer1.account-key');
  const a = decodeAssertion(text);
  assert.equal(a.signKeyId, store.publicKey.id, 'developer1.account-key is signed by test-store, not test-root');
  assert.equal(resign(a, store), text);
});

test('re-signing developer1-pc.model with the developer1 key reproduces the file byte for byte', async () => {
  const { developer1 } = await testSigners();
  const text = readVector('chains', 'snapd-testkeys/developer1-pc.model');
  const a = decodeAssertion(text);
  assert.equal(a.signKeyId, developer1.publicKey.id);
  assert.equal(resign(a, developer1), text);
});

test('every snapd test-key vector is reproduced by its signer, in gnupg or snapd packet layout', async () => {
  const signers = Object.values(await testSigners());
  for (const f of ['test-root.account-key', 'test-store.account-key', 'testrootorg.account', 'developer1.account']) {
    const text = readVector('chains', 'snapd-testkeys', f);
    const a = decodeAssertion(text);
    const signer = signers.find((s) => s.publicKey.id === a.signKeyId) as Signer;
    assert.equal(resign(a, signer), text, f);
  }
});

test('the gnupg layout names the issuer key, the snapd layout does not; both verify', async () => {
  const { developer1 } = await testSigners();
  const content = new TextEncoder().encode('type: test\nsign-key-sha3-384: x');
  const time = new Date('2024-05-06T07:08:09Z');
  for (const flavour of ['gnupg', 'snapd'] as const) {
    const sig = decodeSignature(signContent(content, developer1, { time, flavour }));
    assert.equal(sig.creationTime.toISOString(), '2024-05-06T07:08:09.000Z');
    assert.equal(sig.hashAlgo, 10);
    assert.equal(sig.sigType, 0);
    assert.equal(sig.issuerKeyId === null, flavour === 'snapd');
    if (sig.issuerKeyId) assert.deepEqual(sig.issuerKeyId, developer1.issuerKeyId);
  }
});

test('a node RSA key signs assertions that verify, with its 2016 key packet id as issuer', () => {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const signer = signerFromKeyObject(privateKey);
  assert.deepEqual(signer.issuerKeyId, openpgpKeyId(signer.publicKey));
  const a = signAssertion(
    'account',
    {
      'authority-id': 'store',
      'account-id': 'acme',
      'display-name': 'Acme',
      validation: 'unproven',
      timestamp: '2024-01-01T00:00:00Z',
    },
    undefined,
    signer,
    { time: new Date('2024-01-01T00:00:00Z') },
  );
  const back = decodeAssertion(encodeAssertion(a));
  verifyAssertionSignature(back, signer.publicKey);
  assert.equal(back.signKeyId, signer.publicKey.id);
});

test('keys that cannot sign are refused with a clear message', async () => {
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
  assert.equal(messageOf(() => signerFromKeyObject(publicKey)), 'cannot sign with a public key');
  const { privateKey: ec } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  assert.equal(messageOf(() => signerFromKeyObject(ec)), 'cannot use a ec key: assertion keys must be RSA keys');
  const { privateKey: locked } = await openpgp.generateKey({
    type: 'rsa',
    rsaBits: 2048,
    userIDs: [{ name: 'x' }],
    passphrase: 'secret',
    format: 'object',
  });
  assert.equal(
    messageOf(() => signerFromOpenPGP(locked)),
    `cannot sign with key ${locked.getKeyID().toHex()}: it is still encrypted, decrypt it with its passphrase first`,
  );
});

test('signing rejects content that breaks the type rules, with snapd\'s prefix', async () => {
  const { developer1 } = await testSigners();
  const message = messageOf(() =>
    signAssertion(
      'model',
      { 'authority-id': 'developer1', series: '16', 'brand-id': 'other', model: 'pc', timestamp: '2024-01-01T00:00:00Z' },
      undefined,
      developer1,
      { time: new Date(0) },
    ),
  );
  assert.equal(
    message,
    'cannot assemble assertion model: authority-id and brand-id must match, model assertions are expected to be signed by the brand: "developer1" != "other"',
  );
});
