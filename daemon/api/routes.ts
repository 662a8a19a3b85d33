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
}

export type Handler = (req: ApiRequest, ctx: DaemonContext) => Promise<HandlerResponse> | HandlerResponse;

export const methods = ['GET', 'POST', 'PUT', 'DELETE'] as const;
export type Method = (typeof methods)[number];

/** One endpoint: a path and a handler per method it answers. */
export type Route = { path: string } & Partial<Record<Method, Handler>>;
