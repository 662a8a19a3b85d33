// Test helpers for daemon/asserts: the test vectors (test/vectors) and small builders.

import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as openpgp from 'openpgp';
import { Buffer } from 'node:buffer';
import { buildContent, decodeAssertion, signerFromOpenPGP, type Assertion, type Signer } from '../../../daemon/asserts/index.js';

import { chainsDir, vectorsDir } from '../../helpers/vectors.js';
export { chainsDir, vectorsDir };
export const modelsDir = join(vectorsDir, 'canonical-models');
export const fixturesDir = new URL('./fixtures/', import.meta.url).pathname;

/** Reads a vector file as text. */
export function readVector(...parts: string[]): string {
  return readFileSync(join(vectorsDir, ...parts), 'utf8');
}

/** Decodes one vector assertion file. */
export function loadAssertion(...parts: string[]): Assertion {
  return decodeAssertion(readFileSync(join(vectorsDir, ...parts)));
}

/** Lists the files of a vectors folder with an extension. */
export function listVectors(dir: string, ext: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(ext))
    .sort();
}

/** Reads an armored private key and makes a Signer of it. */
export async function signerFromArmored(path: string): Promise<Signer> {
  const key = await openpgp.readPrivateKey({ armoredKey: readFileSync(path, 'utf8') });
  return signerFromOpenPGP(key);
}

/** A lookup over a fixed set of assertions: account-keys by key id, accounts by id. */
export function lookups(assertions: readonly Assertion[]) {
  const keys = new Map<string, Assertion>();
  const accounts = new Map<string, Assertion>();
  for (const a of assertions) {
    if (a.info.type === 'account-key') keys.set(a.info.publicKeyId, a);
    if (a.info.type === 'account') accounts.set(a.info.accountId, a);
  }
  return {
    findAccountKey: (id: string) => keys.get(id),
    findAccount: (id: string) => accounts.get(id),
  };
}

/** Expects fn to throw a CoreforgeError and returns its message (for exact-message tables). */
export function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as Error).message;
  }
  return '<no error>';
}

/** Async variant of messageOf. */
export async function messageOfAsync(fn: () => Promise<unknown>): Promise<string> {
  try {
    await fn();
  } catch (err) {
    return (err as Error).message;
  }
  return '<no error>';
}

const anySignature = readFileSync(join(vectorsDir, 'chains/snapd-testkeys/developer1-pc.model'), 'utf8')
  .split('\n\n')
  .pop() as string;

/** Decodes headers (+ body) as an assertion text with a well-formed (not matching) signature, to exercise type rules. */
export function decodeHeaders(type: string, headers: Record<string, unknown>, body?: string): Assertion {
  const content = Buffer.from(buildContent(type, headers, body, 'EAD4DbLxK_kn0gzNCXOs3kd6DeMU3f-L6BEsSEuJGBqCORR0gXkdDxMbOm11mRFu').content);
  return decodeAssertion(`${content.toString('utf8')}\n\n${anySignature}`);
}
