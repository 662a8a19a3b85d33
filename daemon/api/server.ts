import type { IncomingMessage } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import { requireRoot, type Caller } from '../caller/caller.js';
import { readJsonBody } from './body.js';
import type { DaemonContext } from './context.js';
import { ApiError, toApiError } from './errors.js';
import { errorResponse, type HandlerResponse } from './response.js';
import { methods, type Route } from './routes.js';

function send(res: Response, body: HandlerResponse): void {
  if (body.type === 'raw') {
    for (const [name, value] of Object.entries(body.headers ?? {})) res.setHeader(name, value);
    res.setHeader('Content-Type', body.contentType);
    res.status(body['status-code']).end(body.body);
    return;
  }
  // Written directly: express's json() adds freshness and etag work this API never uses.
  const text = JSON.stringify(body);
  res.writeHead(body['status-code'], { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** Says who sent a request; the daemon asks the kernel (peer credentials of the socket). */
export type IdentifyCaller = (req: IncomingMessage) => Caller;

/**
 * Mounts a table of routes on an express app: one place turns handler return
 * values into the envelope, and every failure (bad body, unknown path, wrong
 * method, thrown error) into an error envelope with a kind. Every request
 * carries its caller; methods a route keeps for root are refused to others
 * here, before the handler runs.
 */
export function createApp(routes: Route[], ctx: DaemonContext, identify: IdentifyCaller): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.set('query parser', 'simple');

  for (const route of routes) {
    const allowed = methods.filter((m) => route[m]);
    app.all(route.path, async (req: Request, res: Response) => {
      const handler = route[req.method as (typeof methods)[number]];
      if (!handler) {
        req.resume();
        res.setHeader('Allow', allowed.join(', '));
        return send(
          res,
          errorResponse(405, 'method-not-allowed', `cannot ${req.method} ${req.path}: method not allowed; use ${allowed.join(' or ')}`),
        );
      }
      try {
        const caller = identify(req);
        if (route.rootOnly?.methods.includes(req.method as (typeof methods)[number])) {
          req.resume();
          requireRoot(caller, route.rootOnly.what, route.rootOnly.fix);
        }
        const body = await readJsonBody(req);
        const query: Record<string, string | undefined> = {};
        for (const [k, v] of Object.entries(req.query)) query[k] = typeof v === 'string' ? v : undefined;
        const headers: Record<string, string | undefined> = {};
        for (const [k, v] of Object.entries(req.headers)) headers[k] = Array.isArray(v) ? v.join(', ') : v;
        const response = await handler({ params: req.params as Record<string, string>, query, body, headers, caller }, ctx);
        send(res, response);
      } catch (err) {
        const { status, kind, message, value } = toApiError(err);
        if (status >= 500) ctx.logger.error(`${req.method} ${req.path} failed: ${(err as Error)?.stack ?? String(err)}`);
        if (kind === 'body-too-large') res.setHeader('Connection', 'close');
        send(res, errorResponse(status, kind, message, value));
      }
    });
  }

  app.use((req: Request, res: Response) => {
    req.resume();
    send(res, errorResponse(404, 'not-found', `cannot find ${req.method} ${req.path}: no such endpoint; the API lives under /v1/`));
  });

  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const { status, kind, message } = toApiError(err instanceof ApiError ? err : err);
    send(res, errorResponse(status, kind, message));
  });
  return app;
}
