import { io, type Socket } from 'socket.io-client';
import { events, type ProgressEvent, type StatusEvent } from '../daemon/api/types.js';
import { unixSocketAgent } from './transport.js';

/** A live connection to coreforged's progress events, over the same Unix socket as the API. */
export class EventStream {
  private socket: Socket;

  constructor(socketPath: string) {
    this.socket = io('http://localhost', {
      path: '/socket.io',
      transports: ['websocket'],
      agent: unixSocketAgent(socketPath) as unknown as string,
      reconnection: true,
      reconnectionDelay: 200,
    });
  }

  /** Starts events for one change ("*" for all); resolves once the daemon acknowledged. */
  subscribe(change: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.socket.timeout(10_000).emit(events.subscribe, { change }, (err: Error | null, reply?: { ok: boolean; error?: string }) => {
        if (err) reject(new Error(`coreforged did not acknowledge the subscription to change ${change}`));
        else if (!reply?.ok) reject(new Error(reply?.error ?? `cannot watch change ${change}`));
        else resolve();
      });
    });
  }

  onProgress(listener: (e: ProgressEvent) => void): void {
    this.socket.on(events.progress, listener);
  }

  onStatus(listener: (e: StatusEvent) => void): void {
    this.socket.on(events.status, listener);
  }

  close(): void {
    this.socket.close();
  }
}
