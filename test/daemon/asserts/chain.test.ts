import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Buffer } from 'node:buffer';
import {
  checkChain,
  createChainCache,
  decodeAssertion,
  decodeSignature,
  encodeAssertion,
  encodePublicKey,
  signAssertion,
  verifyAssertionSignature,
  type AccountKeyInfo,
  type Assertion,
  type ChainContext,
  type Signer,
} from '../../../daemon/asserts/index.js';
import { isCoreforgeError } from '../../../daemon/errors.js';
import { chainsDir, fixturesDir, listVectors, loadAssertion, lookups, messageOfAsync, modelsDir, signerFromArmored } from './helpers.js';

const load = (f: string) => loadAssertion('chains', f);

const canonicalRoot = load('canonical-root/root.account-key');
const canonicalAccount = load('canonical-root/canonical.account');
const generic = [load('generic/generic.account'), load('generic/generic-models.account-key')];
const testRoot = load('snapd-testkeys/test-root.account-key');
const testrootorg = load('snapd-testkeys/testrootorg.account');
const testKeys = [
  load('snapd-testkeys/test-store.account-key'),
  load('snapd-testkeys/developer1.account-key'),
  load('snapd-testkeys/developer1.account'),
];

/** The Canonical trust set: its root key and account, plus the given vectors to look up. */
function canonicalContext(extra: Assertion[] = generic): ChainContext {
  return { trusted: { accountKeys: [canonicalRoot], accounts: [canonicalAccount] }, ...lookups(extra) };
}

/** snapd's test trust set: test-root and the testrootorg account. */
function testContext(extra: Assertion[] = testKeys): ChainContext {
  return { trusted: { accountKeys: [testRoot], accounts: [testrootorg] }, ...lookups(extra) };
}

const keyIds = (v: { chain: Assertion[] }) => v.chain.map((a) => a.signKeyId.slice(0, 8));

test('the generic chain verifies up to the Canonical root key', async () => {
  const v = await checkChain(load('generic/generic-classic.model'), canonicalContext());
  assert.deepEqual(v.chain.map((a) => a.type), ['model', 'account-key', 'account-key']);
  assert.equal(v.root, canonicalRoot);
  assert.deepEqual(v.accounts.map((a) => a.headers['account-id']), ['generic']);
  for (const a of [...generic, canonicalAccount, canonicalRoot]) {
    assert.equal((await checkChain(a, canonicalContext())).root, canonicalRoot);
  }
});

test('the snapd test-key chain verifies up to test-root', async () => {
  const v = await checkChain(load('snapd-testkeys/developer1-pc.model'), testContext());
  assert.deepEqual(v.chain.map((a) => a.type), ['model', 'account-key', 'account-key', 'account-key']);
  assert.deepEqual(keyIds(v), ['EAD4DbLx', 'XCIC_Wvj', 'hIedp1Av', 'hIedp1Av']);
  assert.equal(v.root, testRoot);
  for (const a of [...testKeys, testrootorg, testRoot]) assert.equal((await checkChain(a, testContext())).root, testRoot);
});

test('the nested-brand chain verifies down to its brand key; the Canonical store key it needs is not in the vectors', async () => {
  const key = load('nested-brand/CA5GLZgNQWPhspDQK63Er46Uxz2SO7ez.account-key') as Assertion<AccountKeyInfo>;
  const model = load('nested-brand/nested-20-amd64.model');
  verifyAssertionSignature(model, key.info.publicKey);
  const storeKeyId = 'BWDEoaqyr25nF5SNCvEv2v7QnM9QsfCc0PBMYD_i2NGSQ32EF2d4D0hqUel3m8ul';
  assert.equal(key.signKeyId, storeKeyId);
  try {
    await checkChain(model, canonicalContext([...generic, key]));
    assert.fail('expected the missing store key to stop the chain');
  } catch (err) {
    assert.ok(isCoreforgeError(err));
    assert.equal(err.kind, 'missing-assertion');
    assert.equal(err.message, `no matching public key "${storeKeyId}" for signature by "canonical"`);
    assert.deepEqual(err.details, { type: 'account-key', primaryKey: [storeKeyId] });
  }
});

test('every canonical model verifies to the Canonical root or names the account-key it lacks', async () => {
  const missing = new Map<string, number>();
  let verified = 0;
  for (const f of listVectors(modelsDir, '.model')) {
    const a = decodeAssertion(readFileSync(join(modelsDir, f)));
    try {
      const v = await checkChain(a, canonicalContext());
      assert.equal(v.root, canonicalRoot);
      verified++;
    } catch (err) {
      assert.ok(isCoreforgeError(err) && err.kind === 'missing-assertion', `${f}: ${String(err)}`);
      missing.set(a.signKeyId, (missing.get(a.signKeyId) ?? 0) + 1);
    }
  }
  assert.equal(verified, 1);
  assert.deepEqual(Object.fromEntries(missing), {
    '9tydnLa6MTJ-jaQTFUXEwHl1yRx7ZS4K5cyFDhYDcPzhS7uyEkDxdUjg9g08BtNn': 93,
    liNgNg92gwg3w61oxMVVqJAZU2c2xuxk3CUDdDENXyqA4fWFpzgdyZZ779tBcXzl: 6,
  });
});

async function expectFailure(text: Buffer, ctx: ChainContext, where: string): Promise<void> {
  try {
    await checkChain(decodeAssertion(text), ctx);
  } catch (err) {
    assert.ok(isCoreforgeError(err), `${where}: ${String(err)}`);
    return;
  }
  assert.fail(`${where}: a flipped byte still verified`);
}

/**
 * File offsets of the base64 characters that encode only the unhashed
 * subpackets (the issuer key id): OpenPGP leaves them out of the signed data,
 * so a flip there cannot invalidate the signature (snapd accepts it too).
 */
function unhashedOnlyOffsets(text: Buffer): Set<number> {
  const sigStart = text.lastIndexOf('\n\n') + 2;
  const raw = Buffer.from(decodeAssertion(text).signature.replaceAll('\n', ''), 'base64');
  const b0 = raw[2] as number;
  const bodyStart = b0 < 192 ? 3 : b0 < 224 ? 4 : 7;
  const hashedLen = raw.readUInt16BE(bodyStart + 4);
  const unhashedLen = raw.readUInt16BE(bodyStart + 6 + hashedLen);
  const from = bodyStart + 8 + hashedLen;
  const out = new Set<number>();
  let k = 0;
  for (let i = sigStart; i < text.length; i++) {
    if (text[i] === 10) continue;
    const first = Math.floor((6 * k) / 8);
    const last = Math.floor((6 * k + 5) / 8);
    if (first >= from && last < from + unhashedLen) out.add(i);
    k++;
  }
  return out;
}

test('flipping any single byte of a short assertion makes it fail, except in the unsigned issuer subpacket', async () => {
  const cases: [string, ChainContext, number][] = [
    ['snapd-testkeys/developer1-pc.model', testContext(), 0],
    ['generic/generic-classic.model', canonicalContext(), 13],
  ];
  for (const [f, ctx, unsignedChars] of cases) {
    const text = readFileSync(join(chainsDir, f));
    const skip = unhashedOnlyOffsets(text);
    assert.equal(skip.size, unsignedChars, f);
    for (let i = 0; i < text.length; i++) {
      if (skip.has(i)) continue;
      const flipped = Buffer.from(text);
      flipped[i] = (flipped[i] as number) ^ 0x01;
      await expectFailure(flipped, ctx, `${f} byte ${i}`);
    }
  }
});

test('the issuer key id is not signed: changing it leaves the signature valid, as in snapd', async () => {
  const text = readFileSync(join(chainsDir, 'generic/generic-classic.model'));
  const a = decodeAssertion(text);
  const raw = Buffer.from(a.signature.replaceAll('\n', ''), 'base64');
  const issuer = decodeSignature(a.signature).issuerKeyId as Uint8Array;
  const at = raw.indexOf(Buffer.from(issuer));
  raw.fill(0x55, at, at + 8);
  const sig = raw.toString('base64').replace(/(.{76})/g, '$1\n').trimEnd();
  const changed = decodeAssertion(`${Buffer.from(a.content).toString()}\n\n${sig}\n`);
  assert.deepEqual(decodeSignature(changed.signature).issuerKeyId, new Uint8Array(8).fill(0x55));
  assert.equal((await checkChain(changed, canonicalContext())).root, canonicalRoot);
});

test('flipping sampled bytes of every chain vector, first and last included, makes it fail', async () => {
  const cases: [string, ChainContext][] = [
    ['canonical-root/root.account-key', canonicalContext()],
    ['canonical-root/canonical.account', canonicalContext()],
    ['generic/generic.account', canonicalContext()],
    ['generic/generic-models.account-key', canonicalContext()],
    ['snapd-testkeys/test-root.account-key', testContext()],
    ['snapd-testkeys/test-store.account-key', testContext()],
    ['snapd-testkeys/testrootorg.account', testContext()],
    ['snapd-testkeys/developer1.account', testContext()],
    ['snapd-testkeys/developer1.account-key', testContext()],
  ];
  for (const [f, ctx] of cases) {
    const text = readFileSync(join(chainsDir, f));
    const contentEnd = text.lastIndexOf('\n\n');
    const positions = new Set([0, contentEnd - 1, contentEnd + 2, text.length - 2, text.length - 1]);
    for (let i = 0; i < text.length; i += 41) positions.add(i);
    const skip = unhashedOnlyOffsets(text);
    for (const i of positions) {
      if (skip.has(i)) continue;
      for (const mask of [0x01, 0x40]) {
        const flipped = Buffer.from(text);
        flipped[i] = (flipped[i] as number) ^ mask;
        await expectFailure(flipped, ctx, `${f} byte ${i} ^ ${mask}`);
      }
    }
  }
});

const modelHeaders = (extra: Record<string, string> = {}) => ({
  'authority-id': 'developer1',
  series: '16',
  'brand-id': 'developer1',
  model: 'my-model',
  architecture: 'amd64',
  gadget: 'pc',
  kernel: 'pc-kernel',
  timestamp: '2020-01-01T00:00:00Z',
  ...extra,
});

function sign(signer: Signer, type: string, headers: Record<string, string>, body?: string): Assertion {
  return decodeAssertion(encodeAssertion(signAssertion(type, headers, body, signer, { time: new Date('2020-01-01T00:00:00Z') })));
}

test('chain failures are reported with an exact message and kind', async () => {
  const store = await signerFromArmored(join(chainsDir, 'snapd-testkeys/test-store.private.asc'));
  const developer1 = await signerFromArmored(join(fixturesDir, 'developer1.private.asc'));
  const devKeyId = developer1.publicKey.id;
  const devKey = testKeys[1] as Assertion;
  const shortKey = sign(store, 'account-key', {
    'authority-id': 'testrootorg',
    'account-id': 'developer1',
    name: 'short',
    since: '2016-08-19T15:49:45+02:00',
    until: '2018-01-01T00:00:00Z',
    'public-key-sha3-384': devKeyId,
  }, encodePublicKey(developer1.publicKey));
  const selfSigned = sign(developer1, 'account-key', {
    'authority-id': 'testrootorg',
    'account-id': 'testrootorg',
    name: 'rogue',
    since: '2016-01-01T00:00:00Z',
    'public-key-sha3-384': devKeyId,
  }, encodePublicKey(developer1.publicKey));
  const tampered = Buffer.from(encodeAssertion(sign(developer1, 'model', modelHeaders())).replace('my-model', 'my-modem'));
  const cases: [string, Assertion, ChainContext, string, string][] = [
    [
      'signer key before its validity',
      sign(developer1, 'model', modelHeaders({ timestamp: '2016-01-01T00:00:00Z' })),
      testContext(),
      'key-expired',
      `assertion is signed with expired public key "${devKeyId}" from "developer1": assertion time is 2016-01-01T00:00:00Z but key is valid from 2016-08-19T13:49:45Z`,
    ],
    [
      'signer key after its validity',
      sign(developer1, 'model', modelHeaders()),
      testContext([...testKeys.filter((a) => a !== devKey), shortKey]),
      'key-expired',
      `assertion is signed with expired public key "${devKeyId}" from "developer1": assertion time is 2020-01-01T00:00:00Z but key is valid during [2016-08-19T13:49:45Z, 2018-01-01T00:00:00Z)`,
    ],
    [
      'signer account-id is not the authority-id',
      sign(developer1, 'model', modelHeaders({ 'authority-id': 'acme', 'brand-id': 'acme' })),
      testContext(),
      'untrusted',
      `error finding matching public key for signature: found public key "${devKeyId}" from "developer1" but expected it from: acme`,
    ],
    [
      'a tampered byte',
      decodeAssertion(tampered),
      testContext(),
      'invalid-signature',
      "failed signature verification: openpgp: invalid signature: hash tag doesn't match",
    ],
    [
      'an unknown signing key',
      load('snapd-testkeys/developer1-pc.model'),
      testContext(testKeys.filter((a) => a !== devKey)),
      'missing-assertion',
      `no matching public key "${devKeyId}" for signature by "developer1"`,
    ],
    [
      'a key without its account',
      load('snapd-testkeys/developer1-pc.model'),
      testContext(testKeys.filter((a) => a.type !== 'account')),
      'missing-assertion',
      'account-key assertion for "developer1" does not have a matching account assertion',
    ],
    [
      'an account-key signed by an authority that is not directly trusted',
      sign(developer1, 'account-key', {
        'authority-id': 'developer1',
        'account-id': 'developer1',
        since: '2020-01-01T00:00:00Z',
        'public-key-sha3-384': devKeyId,
      }, encodePublicKey(developer1.publicKey)),
      testContext(),
      'untrusted',
      'account-key assertion for "developer1" is not signed by a directly trusted authority: developer1',
    ],
    [
      'a self-signed key that is not a trusted root',
      sign(developer1, 'account', {
        'authority-id': 'testrootorg',
        'account-id': 'acme',
        'display-name': 'Acme',
        validation: 'unproven',
        timestamp: '2020-01-01T00:00:00Z',
      }),
      testContext([selfSigned]),
      'untrusted',
      `cannot check assertion chain: signing key "${devKeyId}" of "testrootorg" does not lead to a trusted root key`,
    ],
    [
      'a chain under another root',
      load('snapd-testkeys/developer1-pc.model'),
      canonicalContext([...generic, ...testKeys]),
      'untrusted',
      'account-key assertion for "developer1" is not signed by a directly trusted authority: testrootorg',
    ],
  ];
  for (const [what, a, ctx, kind, want] of cases) {
    assert.equal(await messageOfAsync(() => checkChain(a, ctx)), want, what);
    await checkChain(a, ctx).catch((err: unknown) => assert.equal((err as { kind: string }).kind, kind, what));
  }
});

test('an account-key-request is checked against the key it carries', async () => {
  const developer1 = await signerFromArmored(join(fixturesDir, 'developer1.private.asc'));
  const akr = sign(developer1, 'account-key-request', {
    'account-id': 'developer1',
    name: 'default',
    since: '2020-01-01T00:00:00Z',
    'public-key-sha3-384': developer1.publicKey.id,
  }, encodePublicKey(developer1.publicKey));
  const v = await checkChain(akr, testContext());
  assert.deepEqual(v.chain, [akr]);
  assert.equal(v.root, null);
});

test('a cached key cannot be impersonated by an assertion that reuses its signature block', async () => {
  const developer1 = await signerFromArmored(join(fixturesDir, 'developer1.private.asc'));
  const store = testKeys[0] as Assertion;
  const ctx = { ...testContext(), cache: createChainCache() };
  await checkChain(load('snapd-testkeys/developer1-pc.model'), ctx);
  // developer1's key body, but test-store's id and signature: an unsigned forgery
  const devKey = testKeys[1] as Assertion;
  const forged = decodeAssertion(
    `${Buffer.from(devKey.content).toString().replace('account-id: developer1', 'account-id: testrootorg').replace(`sign-key-sha3-384: ${devKey.signKeyId}`, `sign-key-sha3-384: ${store.signKeyId}`)}\n\n${store.signature}\n`,
  );
  const rogue = sign(developer1, 'account', {
    'authority-id': 'testrootorg',
    'account-id': 'rogue',
    'display-name': 'Rogue',
    validation: 'verified',
    timestamp: '2020-01-01T00:00:00Z',
  });
  const withForgery = { ...ctx, ...lookups([forged, ...testKeys.slice(2)]) };
  assert.equal(
    await messageOfAsync(() => checkChain(rogue, withForgery)),
    'failed signature verification: openpgp: invalid signature: hash tag doesn\'t match',
  );
});
