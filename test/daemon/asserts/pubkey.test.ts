import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Buffer } from 'node:buffer';
import { generateKeyPairSync } from 'node:crypto';
import * as openpgp from 'openpgp';
import {
  decodePublicKey,
  encodePublicKey,
  openpgpKeyId,
  publicKeyFromKeyObject,
  publicKeyFromOpenPGP,
  publicKeyId,
  type AccountKeyInfo,
  type Assertion,
} from '../../../daemon/asserts/index.js';
import { chainsDir, fixturesDir, loadAssertion, messageOf } from './helpers.js';

const keyPairs: [string, string][] = [
  [join(chainsDir, 'snapd-testkeys/test-root.private.asc'), 'chains/snapd-testkeys/test-root.account-key'],
  [join(chainsDir, 'snapd-testkeys/test-store.private.asc'), 'chains/snapd-testkeys/test-store.account-key'],
  [join(fixturesDir, 'developer1.private.asc'), 'chains/snapd-testkeys/developer1.account-key'],
];

async function readKey(path: string): Promise<openpgp.PrivateKey> {
  return openpgp.readPrivateKey({ armoredKey: readFileSync(path, 'utf8') });
}

test('the SHA3-384 id of each snapd test private key equals the public-key-sha3-384 of its account-key', async () => {
  for (const [keyPath, akPath] of keyPairs) {
    const key = await readKey(keyPath);
    const ak = loadAssertion(akPath) as Assertion<AccountKeyInfo>;
    assert.equal(publicKeyFromOpenPGP(key).id, ak.headers['public-key-sha3-384'], keyPath);
    assert.equal(publicKeyFromOpenPGP(key).id, ak.info.publicKeyId);
  }
});

test('encoding a public key gives exactly the account-key body, decoding gives the key back', async () => {
  for (const [keyPath, akPath] of keyPairs) {
    const pub = publicKeyFromOpenPGP(await readKey(keyPath));
    const ak = loadAssertion(akPath);
    assert.equal(encodePublicKey(pub), Buffer.from(ak.body).toString(), akPath);
    const back = decodePublicKey(ak.body);
    assert.equal(back.id, pub.id);
    assert.deepEqual(back.n, pub.n);
    assert.deepEqual(back.e, pub.e);
    assert.equal(back.bits, 4096);
  }
});

test('key ids of the real Canonical keys are computed from their bodies', () => {
  for (const f of ['canonical-root/root.account-key', 'generic/generic-models.account-key', 'nested-brand/CA5GLZgNQWPhspDQK63Er46Uxz2SO7ez.account-key']) {
    const ak = loadAssertion('chains', f);
    assert.equal(decodePublicKey(ak.body).id, ak.headers['public-key-sha3-384'], f);
  }
  assert.equal(decodePublicKey(loadAssertion('chains', 'canonical-root/root.account-key').body).bits, 8192);
});

test('a node RSA key gets the same id whichever way it travels', () => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const fromPrivate = publicKeyFromKeyObject(privateKey);
  const fromPublic = publicKeyFromKeyObject(publicKey);
  assert.equal(fromPrivate.id, fromPublic.id);
  assert.equal(decodePublicKey(encodePublicKey(fromPublic)).id, fromPublic.id);
  assert.equal(publicKeyId(fromPublic), fromPublic.id);
  assert.match(fromPublic.id, /^[A-Za-z0-9_-]{64}$/);
});

test('the OpenPGP key id of a key depends on its creation time, assertions use 2016-01-01', async () => {
  const key = await readKey(keyPairs[1]?.[0] as string);
  const pub = publicKeyFromOpenPGP(key);
  assert.equal(Buffer.from(openpgpKeyId(pub, key.getCreationTime())).toString('hex'), key.getKeyID().toHex());
  assert.notEqual(Buffer.from(openpgpKeyId(pub)).toString('hex'), key.getKeyID().toHex());
  const dev = await readKey(keyPairs[2]?.[0] as string);
  assert.equal(Buffer.from(openpgpKeyId(publicKeyFromOpenPGP(dev))).toString('hex'), dev.getKeyID().toHex());
});

test('bad account-key bodies are rejected with snapd\'s texts', () => {
  const sig = loadAssertion('chains', 'snapd-testkeys/developer1-pc.model').signature;
  const body = Buffer.from(loadAssertion('chains', 'snapd-testkeys/developer1.account-key').body).toString();
  const raw = Buffer.from(body.replaceAll('\n', ''), 'base64');
  const cases: [string, string][] = [
    ['', 'cannot decode public key: no data'],
    ['Acb*', 'cannot decode public key: illegal base64 data at input byte 3'],
    [Buffer.from([2, 1, 2]).toString('base64'), 'unsupported public key format version: 2'],
    [Buffer.concat([raw, Buffer.from([0])]).toString('base64'), 'public key has spurious trailing data'],
    [raw.subarray(0, 100).toString('base64'), 'cannot decode public key: unexpected EOF'],
    [sig, 'expected public key, got instead: *packet.Signature'],
  ];
  for (const [text, want] of cases) assert.equal(messageOf(() => decodePublicKey(text)), want, text);
});
