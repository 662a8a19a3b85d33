import type { Caller } from '../caller/caller.js';
import type { DaemonContext } from './context.js';
import type { HandlerResponse } from './response.js';

/** The parts of an HTTP request a handler may look at; express stays in server.ts. */
export interface ApiRequest {
  params: Record<string, string>;
  query: Record<string, string | undefined>;
  /** The JSON body, always an object ({} when the request had none). */
  body: Record<string, unknown>;
  /** Request headers, lower-case names (Accept...). */
  headers: Record<string, string | undefined>;
  /** Who sent the request, from the kernel (peer credentials), never from the request. */
  caller: Caller;
}

export type Handler = (req: ApiRequest, ctx: DaemonContext) => Promise<HandlerResponse> | HandlerResponse;

export const methods = ['GET', 'POST', 'PUT', 'DELETE'] as const;
export type Method = (typeof methods)[number];

/**
 * One endpoint: a path, a handler per method it answers, and the methods only
 * root may call (what changes the daemon's trust or administers the store).
 */
export type Route = { path: string; rootOnly?: { methods: Method[]; what: string; fix: string } } & Partial<Record<Method, Handler>>;
