/**
 * The one error shape every coreforge library (daemon and console-conf) throws
 * for a user-facing failure.
 *
 * `kind` is a stable machine-readable code: each library declares its own closed
 * union of kinds next to its code, and daemon/api/errors.ts joins them into the
 * union the API exposes. `message` follows the project rule: lowercase, starts
 * with "cannot ..." where it fits, and names the input, the rule it broke and
 * the fix. No final period.
 */
export class CoreforgeError<K extends string = string> extends Error {
  override readonly name = 'CoreforgeError';
  constructor(
    readonly kind: K,
    message: string,
    /** Extra machine-readable facts for API clients (field names, byte ranges...). */
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

/** True for errors thrown on purpose by coreforge code (as opposed to bugs). */
export function isCoreforgeError(err: unknown): err is CoreforgeError {
  return err instanceof CoreforgeError;
}
