/** Validation of SSH public key lines received from the network. */
import { ccError } from './errors.js';
import { formatBytes, LIMITS } from './limits.js';

/** Key types accepted in authorized_keys. */
export const KEY_TYPES = [
  'ssh-ed25519',
  'ssh-rsa',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'sk-ssh-ed25519@openssh.com',
  'sk-ecdsa-sha2-nistp256@openssh.com',
] as const;

export interface PublicKey {
  type: string;
  /** base64 of the key blob */
  data: string;
  comment: string;
}

/** The key line in its normal form: `type base64 [comment]`. */
export function formatKey(k: PublicKey): string {
  return k.comment ? `${k.type} ${k.data} ${k.comment}` : `${k.type} ${k.data}`;
}

/** Parses one public key line; throws unless it is a single-line key of a known type with no options. */
export function parseKeyLine(line: string, origin: string): PublicKey {
  const shown = JSON.stringify(line.length > 60 ? line.slice(0, 57) + '...' : line);
  const fail = (why: string) =>
    ccError('invalid-ssh-key', `cannot use the SSH key ${shown} from ${origin}: ${why}; remove or fix that key at its source`);
  const size = Buffer.byteLength(line);
  if (size > LIMITS.maxKeyLineBytes) {
    throw ccError('key-limit', `cannot use the SSH key ${shown} from ${origin}: ${keyLineTooLong(size)}; shorten its comment or remove that key at its source`);
  }
  if (/[\r\n]/.test(line.replace(/\r?\n$/, ''))) throw fail('it spans more than one line');
  const text = line.trim();
  if (text === '') throw fail('it is empty');
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x08\x0a-\x1f\x7f]/.test(text)) throw fail('it contains control characters');
  const [type = '', data = '', ...rest] = text.split(/[ \t]+/);
  if (!(KEY_TYPES as readonly string[]).includes(type)) {
    if (/[=,"]/.test(type) || /^(no-|restrict|cert-authority)/.test(type)) {
      throw fail('it starts with authorized_keys options, which are not allowed');
    }
    throw fail(`its type "${type}" is not one of ${KEY_TYPES.join(', ')}`);
  }
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(data) || data.length % 4 !== 0) throw fail('its key data is not base64');
  const blob = Buffer.from(data, 'base64');
  if (blobType(blob) !== type) throw fail(`its key data does not hold a ${type} key`);
  return { type, data, comment: rest.join(' ') };
}

function keyLineTooLong(size: number): string {
  return `its line is ${size} bytes, over the limit of ${formatBytes(LIMITS.maxKeyLineBytes)} a key`;
}

/**
 * Refuses a key list over the limits before any key is parsed or written:
 * more than LIMITS.maxKeys keys, or a line over LIMITS.maxKeyLineBytes.
 */
export function checkKeyLimits(lines: readonly string[], origin: string): void {
  if (lines.length > LIMITS.maxKeys) {
    throw ccError(
      'key-limit',
      `cannot use the SSH keys of ${origin}: there are ${lines.length}, over the limit of ${LIMITS.maxKeys} keys; remove the keys you do not use at the source and try again`,
    );
  }
  for (const [i, line] of lines.entries()) {
    const size = Buffer.byteLength(line);
    if (size > LIMITS.maxKeyLineBytes) {
      throw ccError('key-limit', `cannot use SSH key ${i + 1} of ${origin}: ${keyLineTooLong(size)}; shorten its comment or remove that key at its source`);
    }
  }
}

/** The key type named at the start of an SSH wire-format key blob, or undefined. */
export function blobType(blob: Uint8Array): string | undefined {
  if (blob.length < 4) return undefined;
  const n = ((blob[0]! << 24) | (blob[1]! << 16) | (blob[2]! << 8) | blob[3]!) >>> 0;
  if (n === 0 || n > 64 || 4 + n > blob.length) return undefined;
  return String.fromCharCode(...blob.subarray(4, 4 + n));
}
