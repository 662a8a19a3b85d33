// Identifiers the local store hands out. Pure.
import { createHash, randomBytes } from 'node:crypto';

const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** 32 base62 characters from bytes (snap-id and account-id shape: `[a-zA-Z0-9]{32}`). */
export function base62Id(bytes: Uint8Array): string {
  let n = BigInt(`0x${Buffer.from(bytes).toString('hex')}`);
  let out = '';
  for (let i = 0; i < 32; i++) {
    out += alphabet[Number(n % 62n)];
    n /= 62n;
  }
  return out;
}

const fixtureAlphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/**
 * The snap-id the local store gives a snap name: stable, and the same formula
 * as test/fixtures/models.ts fixtureSnapId, so UC20 models written for the
 * fixtures name the ids the local store serves.
 */
export function localSnapId(name: string): string {
  const digest = createHash('sha256').update(`coreforge-fixture-snap-id:${name}`).digest();
  let id = '';
  for (let i = 0; i < 32; i++) id += fixtureAlphabet[digest[i]! % fixtureAlphabet.length];
  return id;
}

/** A fresh random account-id. */
export function randomAccountId(): string {
  return base62Id(randomBytes(32));
}
