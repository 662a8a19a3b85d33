import type { DaemonContext } from './context.js';
import { syncResponse } from './response.js';
import type { Route } from './routes.js';
import type { SystemInfo } from './types.js';

/** Builds the system-info answer from state the daemon already holds: no I/O per request. */
export function systemInfo(ctx: DaemonContext): SystemInfo {
  return {
    version: ctx.version,
    'state-dir': ctx.stateDir,
    socket: ctx.socketPath,
    'socket-activated': ctx.socketActivated,
    pid: process.pid,
    'uptime-seconds': Math.round((Date.now() - ctx.startedAt.getTime()) / 1000),
    'started-at': ctx.startedAt.toISOString(),
    node: process.version,
    tools: ctx.tools(),
    ...(ctx.storeUrls ? { store: ctx.storeUrls } : {}),
  };
}

export const systemRoutes: Route[] = [{ path: '/v1/system-info', GET: (_req, ctx) => syncResponse(systemInfo(ctx)) }];
