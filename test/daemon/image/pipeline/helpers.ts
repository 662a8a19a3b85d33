// Test helpers for the image build: a trust set (snapd's test root), a test brand signed under it,
// fixture models signed by that brand, and the fixture snaps built once per process.
import { generateKeyPairSync } from 'node:crypto';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  decodeAssertion,
  encodeAssertion,
  encodePublicKey,
  signAssertion,
  signerFromKeyObject,
  type Assertion,
  type Signer,
} from '../../../../daemon/asserts/index.js';
import type { ModelLookups } from '../../../../daemon/image/pipeline/model.js';
import { fixtureSnapId, modelJSON } from '../../../fixtures/models.js';
import { buildAllFixtures, type BuiltFixture } from '../../../fixtures/snaps.js';
import { chainsDir, loadAssertion, lookups, signerFromArmored } from '../../asserts/helpers.js';

export const brandId = 'acme';
export const modelTime = '2026-01-01T00:00:00+00:00';
const signTime = { time: new Date('2026-01-01T00:00:00Z') };

export interface TestTrust {
  root: Assertion;
  rootAccount: Assertion;
  brandAccount: Assertion;
  brandKey: Assertion;
  brand: Signer;
  lookups: ModelLookups;
  /** Signs a fixture model (or any headers) with the brand key. */
  signModel(name: string, change?: (m: Record<string, unknown>) => void): string;
}

let trust: Promise<TestTrust> | undefined;

function roundTrip(a: Assertion): Assertion {
  return decodeAssertion(encodeAssertion(a));
}

/** snapd's test root as the trusted root, and brand "acme" with an account-key it signed. */
export function testTrust(): Promise<TestTrust> {
  return (trust ??= (async () => {
    const rootSigner = await signerFromArmored(join(chainsDir, 'snapd-testkeys/test-root.private.asc'));
    const root = loadAssertion('chains', 'snapd-testkeys/test-root.account-key');
    const rootAccount = loadAssertion('chains', 'snapd-testkeys/testrootorg.account');
    const brand = signerFromKeyObject(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey);
    const brandAccount = roundTrip(
      signAssertion('account', { 'authority-id': 'testrootorg', 'account-id': brandId, 'display-name': 'Acme Devices', validation: 'verified', timestamp: '2025-01-01T00:00:00Z' }, undefined, rootSigner, signTime),
    );
    const brandKey = roundTrip(
      signAssertion(
        'account-key',
        { 'authority-id': 'testrootorg', 'account-id': brandId, name: 'models', since: '2025-01-01T00:00:00Z', 'public-key-sha3-384': brand.publicKey.id },
        encodePublicKey(brand.publicKey),
        rootSigner,
        signTime,
      ),
    );
    return {
      root,
      rootAccount,
      brandAccount,
      brandKey,
      brand,
      lookups: { trusted: { accountKeys: [root], accounts: [rootAccount] }, ...lookups([brandAccount, brandKey]) },
      signModel(name, change) {
        const m = modelJSON(name, brandId, modelTime);
        change?.(m);
        return encodeAssertion(signAssertion('model', m, undefined, brand, signTime));
      },
    };
  })());
}

let fixtures: Promise<Record<string, BuiltFixture>> | undefined;
/** The fixture snaps, built (or taken from the cache) once per test process into a shared directory. */
export function fixtureSnaps(dir: string): Promise<Record<string, BuiltFixture>> {
  return (fixtures ??= buildAllFixtures(dir));
}

/** The snap files a fixture model needs. */
export function snapsFor(built: Record<string, BuiltFixture>, ids: readonly string[]): string[] {
  return ids.map((id) => built[id]!.path);
}

/** Copies fixture snaps into `dir` with a `.assert` beside each (snap-declaration + snap-revision signed by the test root). */
export async function assertedSnaps(dir: string, fixtures: BuiltFixture[], options: { revision?: number; publisher?: string } = {}): Promise<string[]> {
  const root = await signerFromArmored(join(chainsDir, 'snapd-testkeys/test-root.private.asc'));
  await mkdir(dir, { recursive: true });
  const out: string[] = [];
  for (const f of fixtures) {
    const path = join(dir, f.fileName);
    await copyFile(f.path, path);
    const snapId = fixtureSnapId(f.name);
    const decl = signAssertion(
      'snap-declaration',
      { 'authority-id': 'testrootorg', series: '16', 'snap-id': snapId, 'snap-name': f.name, 'publisher-id': options.publisher ?? brandId, timestamp: '2026-01-01T00:00:00Z' },
      undefined,
      root,
      signTime,
    );
    const rev = signAssertion(
      'snap-revision',
      {
        'authority-id': 'testrootorg', 'snap-sha3-384': f.sha3_384, 'snap-id': snapId, 'snap-size': String(f.size),
        'snap-revision': String(options.revision ?? 7), 'developer-id': options.publisher ?? brandId, timestamp: '2026-01-01T00:00:00Z',
      },
      undefined,
      root,
      signTime,
    );
    await writeFile(path.replace(/\.snap$/, '.assert'), `${encodeAssertion(decl)}\n${encodeAssertion(rev)}`);
    out.push(path);
  }
  return out;
}
