/**
 * The one SSH public key rule. The store checks a key with it when an account
 * registers it, and console-conf checks every key it is about to write into
 * authorized_keys with it, so a key the store accepts is a key the device
 * accepts. Pure: no I/O.
 *
 * The rule: one line `TYPE BASE64 [COMMENT]`, TYPE one of SSH_KEY_TYPES
 * (ssh-dss is not: OpenSSH has refused DSA keys by default since 7.0), the
 * data strict base64 whose decoded blob names the same TYPE, no control
 * characters, at most MAX_SSH_KEY_LINE_BYTES. No authorized_keys options
 * (`command=...`, `no-pty`, ...): console-conf writes the line as it is into
 * authorized_keys, so an option from a network source would run with the
 * user's login.
 */

/** Key types accepted: what OpenSSH takes by default today. */
export const SSH_KEY_TYPES = [
  'ssh-ed25519',
  'ssh-rsa',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'sk-ssh-ed25519@openssh.com',
  'sk-ecdsa-sha2-nistp256@openssh.com',
] as const;

/** Bytes in one key line, comment included (the longest RSA keys are under 2 KiB). */
export const MAX_SSH_KEY_LINE_BYTES = 16 * 1024;

export interface SshPublicKey {
  type: string;
  /** base64 of the key blob */
  data: string;
  comment: string;
}

/** Why a line is not a key: `tooLong` lines are refused before anything else is read from them. */
export interface SshKeyProblem {
  why: string;
  tooLong: boolean;
}

/** The key line in its normal form: `type base64 [comment]`. */
export function formatSshKey(k: SshPublicKey): string {
  return k.comment ? `${k.type} ${k.data} ${k.comment}` : `${k.type} ${k.data}`;
}

/** The start of a line as messages quote it (key lines can be kilobytes long). */
export function shownKeyLine(line: string): string {
  return JSON.stringify(line.length > 60 ? line.slice(0, 57) + '...' : line);
}

/** Why a line of `size` bytes is refused (over MAX_SSH_KEY_LINE_BYTES). */
export function sshKeyLineTooLong(size: number): string {
  return `its line is ${size} bytes, over the limit of ${MAX_SSH_KEY_LINE_BYTES / 1024} KiB a key`;
}

/** True when the result of parseSshPublicKey is a refusal. */
export function isSshKeyProblem(r: SshPublicKey | SshKeyProblem): r is SshKeyProblem {
  return 'why' in r;
}

/**
 * Parses one public key line (surrounding blanks and one final newline are
 * ignored); gives the key, or the reason it breaks the rule.
 */
export function parseSshPublicKey(line: string): SshPublicKey | SshKeyProblem {
  const fail = (why: string): SshKeyProblem => ({ why, tooLong: false });
  const size = Buffer.byteLength(line);
  if (size > MAX_SSH_KEY_LINE_BYTES) return { why: sshKeyLineTooLong(size), tooLong: true };
  if (/[\r\n]/.test(line.replace(/\r?\n$/, ''))) return fail('it spans more than one line');
  const text = line.trim();
  if (text === '') return fail('it is empty');
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x08\x0a-\x1f\x7f]/.test(text)) return fail('it contains control characters');
  const [type = '', data = '', ...rest] = text.split(/[ \t]+/);
  if (!(SSH_KEY_TYPES as readonly string[]).includes(type)) {
    if (/[=,"]/.test(type) || /^(no-|restrict|cert-authority|from|environment|permit)/.test(type)) {
      return fail('it starts with authorized_keys options, which are not allowed');
    }
    return fail(`its type "${type}" is not one of ${SSH_KEY_TYPES.join(', ')}`);
  }
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(data) || data.length % 4 !== 0) return fail('its key data is not base64');
  if (blobType(Buffer.from(data, 'base64')) !== type) return fail(`its key data does not hold a ${type} key`);
  return { type, data, comment: rest.join(' ') };
}

/** The key type named at the start of an SSH wire-format key blob, or undefined. */
export function blobType(blob: Uint8Array): string | undefined {
  if (blob.length < 4) return undefined;
  const n = ((blob[0]! << 24) | (blob[1]! << 16) | (blob[2]! << 8) | blob[3]!) >>> 0;
  if (n === 0 || n > 64 || 4 + n > blob.length) return undefined;
  return String.fromCharCode(...blob.subarray(4, 4 + n));
}
