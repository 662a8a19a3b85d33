import { STATUS_CODES } from 'node:http';
import type { ApiErrorKind, AsyncResponse, ErrorResponse, SyncResponse } from './types.js';

/**
 * A body that is not the JSON envelope, such as an assertion stream
 * (application/x.ubuntu.assertion) asked for by the Accept header, as snapd serves it.
 */
export interface RawResponse {
  type: 'raw';
  'status-code': number;
  contentType: string;
  headers?: Record<string, string>;
  body: string;
}

/** What a handler returns: the body plus the HTTP status it goes out with. */
export type HandlerResponse = SyncResponse | AsyncResponse | ErrorResponse | RawResponse;

export function rawResponse(contentType: string, body: string, headers: Record<string, string> = {}, statusCode = 200): RawResponse {
  return { type: 'raw', 'status-code': statusCode, contentType, headers, body };
}

export function syncResponse<T>(result: T, statusCode = 200): SyncResponse<T> {
  return { type: 'sync', 'status-code': statusCode, status: STATUS_CODES[statusCode] ?? 'OK', result };
}

export function asyncResponse(change: string): AsyncResponse {
  return { type: 'async', 'status-code': 202, status: 'Accepted', change };
}

export function errorResponse(statusCode: number, kind: ApiErrorKind, message: string, value?: unknown): ErrorResponse {
  return {
    type: 'error',
    'status-code': statusCode,
    status: STATUS_CODES[statusCode] ?? 'Error',
    result: { message, kind, ...(value === undefined ? {} : { value }) },
  };
}
