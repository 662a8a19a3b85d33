import type { Server as HttpServer } from 'node:http';
import { Server as SocketServer } from 'socket.io';
import type { DaemonContext } from './context.js';
import { DriveEvents } from './flash.js';
import { events, type DrivesSubscribeRequest, type SubscribeRequest } from './types.js';

const allRoom = 'changes:*';
const roomOf = (change: string) => `change:${change}`;
/** Clients that want drive attach/detach events; drives are polled only while it has members. */
const drivesRoom = 'drives';

/**
 * Live progress on the API socket: clients join a change's room (or all) and
 * receive the engine's throttled progress and its status transitions. A client
 * that subscribes to a change already finished gets its final status at once,
 * so a late `coreforge watch` never waits forever. Clients subscribed with
 * `{topic: "drives"}` get drive attach/detach events; drives are polled only
 * while at least one such client is connected.
 */
export function attachEvents(http: HttpServer, ctx: DaemonContext): SocketServer {
  const io = new SocketServer(http, { path: '/socket.io', serveClient: false, transports: ['websocket', 'polling'] });
  const drives = new DriveEvents((e) => io.to(drivesRoom).emit(events.drives, e));
  const drivesListeners = () => io.sockets.adapter.rooms.get(drivesRoom)?.size ?? 0;
  http.once('close', () => drives.close());
  io.on('connection', (socket) => {
    socket.on('disconnect', () => void drives.listeners(drivesListeners()));
    socket.on(events.subscribe, async (req: SubscribeRequest | DrivesSubscribeRequest, ack?: (reply: { ok: boolean; error?: string }) => void) => {
      if ((req as DrivesSubscribeRequest)?.topic === 'drives') {
        await socket.join(drivesRoom);
        await drives.listeners(drivesListeners());
        return ack?.({ ok: true });
      }
      const change = typeof (req as SubscribeRequest)?.change === 'string' ? (req as SubscribeRequest).change : '';
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
    socket.on(events.unsubscribe, async (req: SubscribeRequest | DrivesSubscribeRequest) => {
      if ((req as DrivesSubscribeRequest)?.topic === 'drives') {
        await socket.leave(drivesRoom);
        return void drives.listeners(drivesListeners());
      }
      await socket.leave((req as SubscribeRequest)?.change === '*' ? allRoom : roomOf(String((req as SubscribeRequest)?.change)));
    });
  });
  ctx.engine.onProgress((e) => io.to(roomOf(e.change)).to(allRoom).emit(events.progress, e));
  ctx.engine.onStatus((e) => io.to(roomOf(e.change)).to(allRoom).emit(events.status, e));
  return io;
}
