// Passwords (scrypt) and one-time codes (TOTP, RFC 6238) of local store accounts.
import { createHmac, randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';

/** Hashes a password for storage: "scrypt$SALT$HASH" (base64). */
export function hashPassword(password: string): string {
  const salt = randomBytes(16);
  return `scrypt$${salt.toString('base64')}$${scryptSync(password, salt, 32).toString('base64')}`;
}

/** True when the password matches a hash made by hashPassword. */
export function verifyPassword(password: string, stored: string): boolean {
  const [scheme, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || salt === undefined || hash === undefined) return false;
  const want = Buffer.from(hash, 'base64');
  const got = scryptSync(password, Buffer.from(salt, 'base64'), want.length);
  return want.length > 0 && timingSafeEqual(want, got);
}

const base32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function base32Decode(s: string): Buffer {
  let bits = '';
  for (const c of s.replace(/=+$/, '').toUpperCase()) {
    const v = base32.indexOf(c);
    if (v < 0) throw new Error(`invalid base32 character ${JSON.stringify(c)}`);
    bits += v.toString(2).padStart(5, '0');
  }
  const out = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) out.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(out);
}

/** The 6-digit TOTP (SHA-1, 30 s steps) of a base32 secret at a time. */
export function totp(secret: string, at: Date): string {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at.getTime() / 30_000)));
  const mac = createHmac('sha1', base32Decode(secret)).update(counter).digest();
  const offset = mac[mac.length - 1]! & 0xf;
  const code = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return code.toString().padStart(6, '0');
}

/** True when a code matches the secret now, one step before or one after. */
export function verifyTotp(secret: string, code: string, now: Date): boolean {
  return [-1, 0, 1].some((d) => totp(secret, new Date(now.getTime() + d * 30_000)) === code);
}
