import type { Server as HttpServer } from 'node:http';
import { Server as SocketServer } from 'socket.io';
import type { Socket as NetSocket } from 'node:net';
import { callerOfSocket, isRoot, mayUseChange } from '../caller/caller.js';
import type { DaemonContext } from './context.js';
import { DriveEvents } from '../flash/drive-events.js';
import { toDrivesEvent } from './flash.js';
import { events, type DrivesSubscribeRequest, type SubscribeRequest } from './types.js';

/** Every change's events: root's "*" subscription. Another user's "*" sees its own changes only. */
const allRoom = 'changes:*';
const roomOf = (change: string) => `change:${change}`;
const ownerRoom = (uid: number) => `changes:uid:${uid}`;
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
  const drives = new DriveEvents((u) => io.to(drivesRoom).emit(events.drives, toDrivesEvent(u)));
  const drivesListeners = () => io.sockets.adapter.rooms.get(drivesRoom)?.size ?? 0;
  http.once('close', () => drives.close());
  io.on('connection', (socket) => {
    // The same kernel answer as for the HTTP API: the peer of the Unix socket the handshake came on.
    const caller = callerOfSocket(socket.request.socket as NetSocket);
    socket.on('disconnect', () => void drives.listeners(drivesListeners()));
    socket.on(events.subscribe, async (req: SubscribeRequest | DrivesSubscribeRequest, ack?: (reply: { ok: boolean; error?: string }) => void) => {
      if ((req as DrivesSubscribeRequest)?.topic === 'drives') {
        await socket.join(drivesRoom);
        await drives.listeners(drivesListeners());
        return ack?.({ ok: true });
      }
      const change = typeof (req as SubscribeRequest)?.change === 'string' ? (req as SubscribeRequest).change : '';
      if (change === '*') {
        await socket.join(isRoot(caller) ? allRoom : ownerRoom(caller.uid));
        return ack?.({ ok: true });
      }
      try {
        const info = await ctx.engine.get(change);
        if (!mayUseChange(caller, info.owner)) return ack?.({ ok: false, error: `cannot watch change ${change}: it was started by another user; only its owner and root may watch it` });
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
      const change = (req as SubscribeRequest)?.change;
      if (change === '*') await socket.leave(isRoot(caller) ? allRoom : ownerRoom(caller.uid));
      else await socket.leave(roomOf(String(change)));
    });
  });
  // A change's events go to its watchers, to root's "*" and to its owner's "*".
  const audience = (change: string) => {
    const owner = ctx.engine.ownerOf(change);
    const rooms = [roomOf(change), allRoom];
    if (owner !== null && owner !== undefined) rooms.push(ownerRoom(owner));
    return io.to(rooms);
  };
  ctx.engine.onProgress((e) => audience(e.change).emit(events.progress, e));
  ctx.engine.onStatus((e) => audience(e.change).emit(events.status, e));
  return io;
}
