import { CoreforgeError } from '../errors.js';

/** The closed set of error kinds thrown by daemon/asserts. */
export type AssertsErrorKind =
  /** the text, headers or body break the assertion format or the type's rules */
  | 'invalid-assertion'
  /** the signature block is malformed or does not verify against the key */
  | 'invalid-signature'
  /** key material is unusable: not RSA, still encrypted, badly encoded */
  | 'invalid-key'
  /** a prerequisite (the signing account-key, an account) is not available */
  | 'missing-assertion'
  /** the signing key is not valid (since/until) at the assertion's time */
  | 'key-expired'
  /** the chain does not lead to a trusted root, or an authority does not match */
  | 'untrusted';

/** The error type of this module, a CoreforgeError narrowed to AssertsErrorKind. */
export type AssertsError = CoreforgeError<AssertsErrorKind>;

/** Shorthand used by every check in this module to build its error. */
export function assertsError(
  kind: AssertsErrorKind,
  message: string,
  details?: Record<string, unknown>,
): AssertsError {
  return new CoreforgeError<AssertsErrorKind>(kind, message, details);
}

/** Builds an 'invalid-assertion' error, the most common failure of decoding and checking. */
export function invalid(message: string): AssertsError {
  return assertsError('invalid-assertion', message);
}

/** Re-throws a CoreforgeError with a prefix added to its message, as snapd wraps errors per layer. */
export function withPrefix<T>(prefix: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof CoreforgeError) {
      throw new CoreforgeError(err.kind, `${prefix}${err.message}`, err.details);
    }
    throw err;
  }
}
