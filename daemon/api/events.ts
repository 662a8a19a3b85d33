import type { Server as HttpServer } from 'node:http';
import { Server as SocketServer } from 'socket.io';
import type { DaemonContext } from './context.js';
import { events, type SubscribeRequest } from './types.js';

const allRoom = 'changes:*';
const roomOf = (change: string) => `change:${change}`;

/**
 * Live progress on the API socket: clients join a change's room (or all) and
 * receive the engine's throttled progress and its status transitions. A client
 * that subscribes to a change already finished gets its final status at once,
 * so a late `coreforge watch` never waits forever.
 */
export function attachEvents(http: HttpServer, ctx: DaemonContext): SocketServer {
  const io = new SocketServer(http, { path: '/socket.io', serveClient: false, transports: ['websocket', 'polling'] });
  io.on('connection', (socket) => {
    socket.on(events.subscribe, async (req: SubscribeRequest, ack?: (reply: { ok: boolean; error?: string }) => void) => {
      const change = typeof req?.change === 'string' ? req.change : '';
      if (change === '*') {
        await socket.join(allRoom);
        return ack?.({ ok: true });
      }
      try {
        const info = await ctx.engine.get(change);
        await socket.join(roomOf(change));
        ack?.({ ok: true });
        if (info.ready) socket.emit(events.status, { change, kind: info.kind, status: info.status, ...(info.err ? { err: info.err } : {}) });
      } catch (err) {
        ack?.({ ok: false, error: (err as Error).message });
      }
    });
    socket.on(events.unsubscribe, async (req: SubscribeRequest) => {
      await socket.leave(req?.change === '*' ? allRoom : roomOf(String(req?.change)));
    });
  });
  ctx.engine.onProgress((e) => io.to(roomOf(e.change)).to(allRoom).emit(events.progress, e));
  ctx.engine.onStatus((e) => io.to(roomOf(e.change)).to(allRoom).emit(events.status, e));
  return io;
}
