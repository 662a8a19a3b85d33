// Running the store app on TCP: `coreforged --store-listen ADDR:PORT`.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { storeError } from '../errors.js';
import { createStoreApp, type StoreServerOptions } from './app.js';

/** A running store server. */
export interface RunningStoreServer {
  /** http://HOST:PORT */
  url: string;
  close(): Promise<void>;
}

/** Parses ADDR:PORT (IPv6 as [ADDR]:PORT); PORT 0 picks a free port. */
export function parseListen(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw storeError('store-error', `cannot listen on ${JSON.stringify(text)}: use ADDR:PORT such as 127.0.0.1:8181`);
  return { host: (m[1] ?? m[2])!, port };
}

/** Serves the local store on host:port. */
export async function listenStore(listen: string, options: StoreServerOptions): Promise<RunningStoreServer> {
  const { host, port } = parseListen(listen);
  const app = await createStoreApp(options);
  const server: Server = createServer(app);
  server.keepAliveTimeout = 30_000;
  // a request (headers and body, at most 1 MiB) that takes longer than this is a slow-sending client holding a connection
  server.headersTimeout = 20_000;
  server.requestTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(storeError('store-error', `cannot listen on ${listen}: ${err.code ?? err.message}; pick another port or stop what uses it`)),
    );
    server.listen(port, host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const shownHost = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${shownHost}:${addr.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
