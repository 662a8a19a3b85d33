import type { ChangesErrorKind } from '../changes/engine.js';
import type { DbErrorKind } from '../db/database.js';
import type { AssertsErrorKind } from '../asserts/errors.js';
import type { AssertDbErrorKind } from '../asserts-db/database.js';
import type { KeysErrorKind } from '../keys/errors.js';
import { isCoreforgeError } from '../errors.js';
import type { FlashErrorKind } from '../flash/errors.js';
import type { StoreErrorKind } from '../store/errors.js';
import type { SsoKeysErrorKind } from '../../common/sso-keys.js';
import type { ImageErrorKind } from '../image/errors.js';
import type { CallerErrorKind } from '../caller/caller.js';

/** Kinds that belong to the HTTP layer itself. */
export type HttpErrorKind =
  /** The body is not valid JSON. */
  | 'malformed-json'
  /** The body is JSON but not an object, or a field has the wrong type or value. */
  | 'bad-request'
  /** The request has a body whose Content-Type is not application/json. */
  | 'unsupported-content-type'
  /** The body is larger than the API accepts (1 MiB). */
  | 'body-too-large'
  /** No endpoint at that path. */
  | 'not-found'
  /** The endpoint exists but not for that method. */
  | 'method-not-allowed';

/** The closed union of every `kind` the API can answer with. */
export type ApiErrorKind =
  | HttpErrorKind
  | ChangesErrorKind
  | DbErrorKind
  | FlashErrorKind
  | KeysErrorKind
  | AssertsErrorKind
  | StoreErrorKind
  | SsoKeysErrorKind
  | AssertDbErrorKind
  | ImageErrorKind
  | CallerErrorKind;

const statusByKind: Partial<Record<ApiErrorKind, number>> = {
  'malformed-json': 400,
  'bad-request': 400,
  'unsupported-content-type': 400,
  'body-too-large': 413,
  'not-found': 404,
  'method-not-allowed': 405,
  'change-not-found': 404,
  'change-not-abortable': 400,
  'unknown-task-kind': 400,
  'bad-task-data': 500,
  'stored-change-unreadable': 500,
  'internal-error': 500,
  interrupted: 503,
  'image-not-found': 404,
  'bmap-not-found': 404,
  'drive-not-found': 404,
  'drive-busy': 409,
  'permission-denied': 403,
  'root-required': 403,
  'not-owner': 403,
  'file-not-found': 404,
  'file-too-large': 413,
  'key-not-found': 404,
  'key-exists': 409,
  'wrong-passphrase': 403,
  'assertion-not-found': 404,
  'snap-not-found': 404,
  'revision-not-found': 404,
  'account-not-found': 404,
  'account-exists': 409,
  'invalid-credentials': 401,
  'login-throttled': 429,
  'otp-required': 401,
  'login-required': 401,
  'login-expired': 401,
  'key-already-registered': 409,
  'store-unreachable': 502,
  'bad-store-reply': 502,
  'store-error': 502,
  'digest-mismatch': 502,
  'store-assertion-not-found': 404,
  'build-not-found': 404,
  'no-space': 507,
  'output-not-writable': 403,
  'output-busy': 409,
};

/** Thrown by handlers for errors that are the HTTP layer's own. */
export class ApiError extends Error {
  constructor(
    readonly kind: ApiErrorKind,
    message: string,
    readonly status: number = statusByKind[kind] ?? 400,
  ) {
    super(message);
  }
}

/**
 * Maps anything a handler threw to the status code, kind and message the
 * client sees, and the error's machine-readable details (drive, byte range,
 * path, field...) as the envelope's `value`.
 */
export function toApiError(err: unknown): { status: number; kind: ApiErrorKind; message: string; value?: Record<string, unknown> } {
  if (err instanceof ApiError) return { status: err.status, kind: err.kind, message: err.message };
  if (isCoreforgeError(err)) {
    const kind = err.kind as ApiErrorKind;
    return { status: statusByKind[kind] ?? 400, kind, message: err.message, ...(err.details ? { value: err.details } : {}) };
  }
  return { status: 500, kind: 'internal-error', message: `internal error: ${(err as Error)?.message ?? String(err)}` };
}
