import { isCoreforgeError } from '../errors.js';

/** The assertion whose chain failed, as the fix names it. */
export interface ChainSubject {
  type: string;
  /** The brand of a model, the authority of anything else. */
  authorityId: string;
}

/**
 * What to do about an assertion whose signature chain does not check, by
 * cause: each failure has its own fix. snapd's message, which users search
 * for, says what failed; this says what to do. Shared by `verify` and the
 * build's model check so both give the same advice.
 */
export function chainFailureFix(err: unknown, subject: ChainSubject): string {
  const kind = isCoreforgeError(err) ? err.kind : '';
  const details = (isCoreforgeError(err) ? err.details : undefined) ?? {};
  const what = subject.type;
  const owner = what === 'model' ? 'brand' : 'authority';
  switch (kind) {
    case 'invalid-signature':
      return `the ${what} was changed after it was signed: edit the JSON statement, not the signed ${what}, and sign it again ("coreforge sign -k KEY ${what}.json > ${what}.${what === 'model' ? 'model' : 'assert'}")`;
    case 'key-expired':
      if (typeof details.since === 'string' && typeof details.time === 'string' && details.time < details.since) {
        return `the ${what}'s timestamp is before its key became valid (${details.since}): sign it again with "coreforge sign --update-timestamp", or set "timestamp" in the JSON to a time after that`;
      }
      return `its signing key is no longer valid at the ${what}'s timestamp: sign the ${what} with a current key of the ${owner} (see "coreforge keys")`;
    case 'missing-assertion':
      if (details.type === 'account') return `"coreforge ack" the account assertion of the ${owner} "${subject.authorityId}" (a registered key brings it along)`;
      return (
        `the key that signed it is unknown to coreforged: register it with the ${owner}'s store account ("coreforge login EMAIL", then "coreforge register-key KEY"), ` +
        `or "coreforge ack" the ${owner}'s account-key and account assertions`
      );
    default:
      return `"coreforge ack" the ${owner}'s account and account-key assertions, signed up to a root coreforged trusts ("coreforge ack --trusted ROOT" adds your own root)`;
  }
}
