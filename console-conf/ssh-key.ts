/** SSH public key lines received from the network, checked with the rule the store uses (common/ssh-key.ts). */
import { isSshKeyProblem, parseSshPublicKey, shownKeyLine, sshKeyLineTooLong, type SshPublicKey } from '../common/ssh-key.js';
import { ccError } from './errors.js';
import { LIMITS } from './limits.js';

export { formatSshKey as formatKey, type SshPublicKey as PublicKey } from '../common/ssh-key.js';

/** Parses one public key line; throws unless it is a single-line key of a known type with no options. */
export function parseKeyLine(line: string, origin: string): SshPublicKey {
  const key = parseSshPublicKey(line);
  if (!isSshKeyProblem(key)) return key;
  const shown = shownKeyLine(line);
  if (key.tooLong) throw ccError('key-limit', `cannot use the SSH key ${shown} from ${origin}: ${key.why}; shorten its comment or remove that key at its source`);
  throw ccError('invalid-ssh-key', `cannot use the SSH key ${shown} from ${origin}: ${key.why}; remove or fix that key at its source`);
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
      throw ccError('key-limit', `cannot use SSH key ${i + 1} of ${origin}: ${sshKeyLineTooLong(size)}; shorten its comment or remove that key at its source`);
    }
  }
}
