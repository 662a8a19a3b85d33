import { createServer, type Server } from 'node:http';
import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Server as SocketServer } from 'socket.io';
import { changeRoutes } from './api/changes.js';
import type { DaemonContext } from './api/context.js';
import { attachEvents } from './api/events.js';
import type { Route } from './api/routes.js';
import { createApp } from './api/server.js';
import { activatedSocketFd, listenOnFd, listenOnPath } from './api/socket.js';
import { systemRoutes } from './api/system.js';
import type { ToolInfo } from './api/types.js';
import { ChangeEngine, type TaskKind } from './changes/engine.js';
import { ChangeRepository } from './changes/repository.js';
import { Database } from './db/database.js';
import { migrate } from './db/migrations.js';
import type { Logger } from './log.js';
import { prepareStateDir } from './state-dir.js';
import { probeTools, toolSearchDirs, toolSpecs } from './system/tools.js';
import { packageVersion } from './api/version.js';

export interface DaemonConfig {
  socketPath: string;
  stateDir: string;
  logger: Logger;
  env: NodeJS.ProcessEnv;
  pid: number;
  /** How long in-flight changes get to reach a safe point on shutdown. */
  shutdownGraceMs: number;
}

/** What tests (and later features) plug in without touching the daemon's core. */
export interface DaemonExtensions {
  taskKinds?: TaskKind[];
  routes?: Route[];
}

export interface RunningDaemon {
  ctx: DaemonContext;
  /** Stops accepting, lets changes reach a safe point, closes the db, removes the socket. */
  stop(): Promise<void>;
}

/** The API: every endpoint of coreforged in one list. */
function apiRoutes(extra: Route[]): Route[] {
  return [...systemRoutes, ...changeRoutes, ...extra];
}

/** Brings up coreforged: state dir, state.db, change engine, API on the socket. */
export async function startDaemon(config: DaemonConfig, extensions: DaemonExtensions = {}): Promise<RunningDaemon> {
  const { logger } = config;
  await prepareStateDir(config.stateDir);
  const db = await Database.open(join(config.stateDir, 'state.db'));
  let http: Server | undefined;
  let io: SocketServer | undefined;
  try {
    await migrate(db);
    const engine = new ChangeEngine(new ChangeRepository(db), logger);
    for (const kind of extensions.taskKinds ?? []) engine.register(kind);

    let tools: ToolInfo[] = [];
    const activationFd = activatedSocketFd(config.env, config.pid);
    const ctx: DaemonContext = {
      version: packageVersion(),
      stateDir: config.stateDir,
      socketPath: config.socketPath,
      socketActivated: activationFd !== null,
      startedAt: new Date(),
      db,
      engine,
      logger,
      tools: () => tools,
    };
    const toolsProbed = probeTools(toolSpecs, toolSearchDirs(config.env)).then((found) => {
      tools = found;
      for (const t of found) if (t.required && !t.present) logger.warn(`required tool ${t.name} is missing; install the Debian package ${t.package}`);
    });

    await engine.start();
    http = createServer(createApp(apiRoutes(extensions.routes ?? []), ctx));
    http.keepAliveTimeout = 30_000;
    io = attachEvents(http, ctx);
    if (activationFd !== null) await listenOnFd(http, activationFd);
    else await listenOnPath(http, config.socketPath);
    await toolsProbed;
    logger.info(`coreforged ${ctx.version} listening`, {
      socket: config.socketPath,
      activated: activationFd !== null,
      'state-dir': config.stateDir,
    });

    const server = http;
    const events = io;
    let stopping: Promise<void> | undefined;
    const stop = () =>
      (stopping ??= (async () => {
        logger.info('stopping');
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        await engine.stop(config.shutdownGraceMs);
        events.close();
        server.closeAllConnections();
        await closed;
        await db.close();
        if (activationFd === null) await unlink(config.socketPath).catch(() => {});
        logger.info('stopped');
      })());
    return { ctx, stop };
  } catch (err) {
    io?.close();
    http?.close();
    await db.close().catch(() => {});
    throw err;
  }
}
