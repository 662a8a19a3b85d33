// JSON requests to the store services with bounded retries: network errors and
// 5xx are retried with exponential backoff, other statuses are returned for the
// caller to map. Malformed JSON replies become `bad-store-reply`.
import { storeError } from '../errors.js';

export interface RetryPolicy {
  /** attempts in all, the first included (default 4) */
  attempts: number;
  /** delay before the second attempt; doubles each time (default 200 ms) */
  baseDelayMs: number;
  sleep?: (ms: number) => Promise<void>;
}

export const defaultRetry: RetryPolicy = { attempts: 4, baseDelayMs: 200 };

/** A reply: status, headers and the parsed JSON (or raw text for non-JSON replies). */
export interface StoreReply {
  status: number;
  headers: Headers;
  text: string;
  /** the parsed body; undefined when the body is empty */
  json: unknown;
}

const sleeper = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Describes a fetch failure the way a user can act on it (ECONNREFUSED, timeout...). */
export function describeNetworkError(err: unknown): string {
  if (err instanceof Error) {
    if (err.name === 'TimeoutError' || err.name === 'AbortError') return 'no answer in time';
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    if (cause?.code) return cause.code;
    if (cause?.message) return cause.message;
    return (err as NodeJS.ErrnoException).code ?? err.message;
  }
  return String(err);
}

/** The first message of a store error body (error-list, error_list, or SSO's {code, message}). */
export function storeMessage(json: unknown): { code: string; message: string } | undefined {
  if (!json || typeof json !== 'object') return undefined;
  const o = json as Record<string, unknown>;
  const list = (o['error-list'] ?? o.error_list) as { code?: unknown; message?: unknown }[] | undefined;
  const first = Array.isArray(list) ? list[0] : o;
  if (first && typeof first.message === 'string') return { code: String(first.code ?? ''), message: first.message };
  return undefined;
}

/** Sends one request with retries; `what` names the service in messages ("the store at URL"). */
export async function storeRequest(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: unknown; accept?: string; signal?: AbortSignal; timeoutMs?: number },
  retry: RetryPolicy = defaultRetry,
): Promise<StoreReply> {
  const sleep = retry.sleep ?? sleeper;
  const headers: Record<string, string> = { accept: init.accept ?? 'application/json', ...init.headers };
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  const origin = new URL(url).origin;
  let last = '';
  for (let attempt = 1; attempt <= retry.attempts; attempt++) {
    if (attempt > 1) await sleep(retry.baseDelayMs * 2 ** (attempt - 2));
    init.signal?.throwIfAborted();
    const timeout = AbortSignal.timeout(init.timeoutMs ?? 30_000);
    let res: Response;
    let text: string;
    try {
      res = await fetch(url, {
        method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
        headers,
        ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
        signal: init.signal ? AbortSignal.any([init.signal, timeout]) : timeout,
      });
      text = await res.text();
    } catch (err) {
      if (init.signal?.aborted) throw err;
      last = describeNetworkError(err);
      continue;
    }
    if (res.status >= 500) {
      last = `it answered with status ${res.status}${storeMessage(safeParse(text)) ? `: ${storeMessage(safeParse(text))!.message}` : ''}`;
      continue;
    }
    const type = res.headers.get('content-type') ?? '';
    let json: unknown;
    if (text !== '' && /json/.test(type)) {
      try {
        json = JSON.parse(text);
      } catch {
        throw storeError('bad-store-reply', `cannot use the reply of ${origin} to ${new URL(url).pathname}: it is not valid JSON; check the store URL (--store-url, --sso-url, --dashboard-url)`);
      }
    }
    return { status: res.status, headers: res.headers, text, json };
  }
  throw storeError('store-unreachable', `cannot reach the store at ${origin}: ${last} (tried ${retry.attempts} times); check the network and the store URL`);
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The JSON object of a 2xx reply, or bad-store-reply. */
export function expectObject(reply: StoreReply, url: string): Record<string, unknown> {
  const j = reply.json;
  if (j === null || typeof j !== 'object' || Array.isArray(j)) {
    throw storeError('bad-store-reply', `cannot use the reply of ${new URL(url).origin} to ${new URL(url).pathname}: it is not a JSON object; check the store URL (--store-url, --sso-url, --dashboard-url)`);
  }
  return j as Record<string, unknown>;
}
