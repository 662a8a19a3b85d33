import { createServer, type Server } from 'node:http';
import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Server as SocketServer } from 'socket.io';
import { changeRoutes } from './api/changes.js';
import type { DaemonContext } from './api/context.js';
import { attachEvents } from './api/events.js';
import { flashRoutes } from './api/flash.js';
import { flashTaskKind } from './flash/task.js';
import { assertionRoutes } from './api/assertions.js';
import { buildRoutes } from './api/builds.js';
import { runTool } from './image/pipeline/exec.js';
import { BuildRepository } from './image/pipeline/repository.js';
import { ImageDigests } from './image/pipeline/image-digests.js';
import { BuildTasks } from './image/pipeline/task.js';
import { callerOfSocket } from './caller/caller.js';
import { keyRoutes } from './api/keys.js';
import { storeRoutes } from './api/store.js';
import { storeDownloadTask } from './store/download-task.js';
import { setupStore, type StoreConfig } from './store-service.js';
import type { Route } from './api/routes.js';
import { createApp } from './api/server.js';
import { activatedSocketFd, listenOnFd, listenOnPath } from './api/socket.js';
import { systemRoutes } from './api/system.js';
import type { ToolInfo } from './api/types.js';
import { ChangeEngine, type AnyTaskKind } from './changes/engine.js';
import { ChangeRepository } from './changes/repository.js';
import { Database } from './db/database.js';
import { migrate } from './db/migrations.js';
import { SqliteAssertionDatabase } from './asserts-db/database.js';
import { loadRoots } from './asserts-db/roots.js';
import { Keyring } from './keys/keyring.js';
import { PassphraseVault } from './keys/passphrases.js';
import { createKeyTask } from './keys/task.js';
import type { Logger } from './log.js';
import { prepareStateDir } from './state-dir.js';
import { probeTools, toolSearchDirs, toolSpecs } from './system/tools.js';
import { packageVersion } from '../common/version.js';

export interface DaemonConfig {
  socketPath: string;
  stateDir: string;
  logger: Logger;
  env: NodeJS.ProcessEnv;
  pid: number;
  /** How long in-flight changes get to reach a safe point on shutdown. */
  shutdownGraceMs: number;
  /** Store URLs, --offline, --store-listen (default: the real services). */
  store?: StoreConfig;
}

/** What tests (and later features) plug in without touching the daemon's core. */
export interface DaemonExtensions {
  taskKinds?: AnyTaskKind[];
  routes?: Route[];
}

export interface RunningDaemon {
  ctx: DaemonContext;
  /** Stops accepting, lets changes reach a safe point, closes the db, removes the socket. */
  stop(): Promise<void>;
}

/** The API: every endpoint of coreforged in one list. */
function apiRoutes(extra: Route[]): Route[] {
  return [...systemRoutes, ...changeRoutes, ...flashRoutes, ...keyRoutes, ...storeRoutes, ...assertionRoutes, ...buildRoutes, ...extra];
}

/** Brings up coreforged: state dir, state.db, change engine, API on the socket. */
export async function startDaemon(config: DaemonConfig, extensions: DaemonExtensions = {}): Promise<RunningDaemon> {
  const { logger } = config;
  await prepareStateDir(config.stateDir);
  const db = await Database.open(join(config.stateDir, 'state.db'));
  let http: Server | undefined;
  let io: SocketServer | undefined;
  let stopStore: (() => Promise<void>) | undefined;
  try {
    await migrate(db);
    const engine = new ChangeEngine(new ChangeRepository(db), logger);
    // Under systemd (INVOCATION_ID) the hardened unit has a private mount namespace: unmount through PID 1.
    engine.register(flashTaskKind({ unmountCommand: config.env.INVOCATION_ID ? ['systemd-umount'] : ['umount'] }));
    const keyring = await new Keyring({ db, dir: join(config.stateDir, 'keys') }).open();
    const passphrases = new PassphraseVault();
    engine.register(createKeyTask(keyring, passphrases));
    const assertions = await new SqliteAssertionDatabase(db, loadRoots()).open();
    const builds = new BuildRepository(db);
    const imageDigests = new ImageDigests(builds, logger);
    const store = await setupStore(config.stateDir, config.store ?? {}, db, assertions, logger);
    stopStore = store.close;
    const buildTasks = new BuildTasks({
      lookups: () => assertions.chainContext(),
      repo: builds,
      digests: imageDigests,
      exec: runTool,
      store: (arch: string) => store.snapSource(arch),
      stateDir: config.stateDir,
      logger,
      secrets: passphrases,
    });
    engine.register(buildTasks.kind);
    engine.onStatus((e) => void buildTasks.changeEnded(e));
    engine.register(storeDownloadTask(store.client, (id) => assertions.trustedRoots().accountKeys.some((k) => k.headers['public-key-sha3-384'] === id)));
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
      keyring,
      passphrases,
      assertions,
      builds,
      imageDigests,
      store: store.client,
      storeFor: (uid) => (uid === 0 ? store.client : store.client.withLogin(join(config.stateDir, 'store-credentials', `${uid}.json`))),
      localStore: store.localStore,
      storeUrls: store.urls,
    };
    const toolsProbed = probeTools(toolSpecs, toolSearchDirs(config.env)).then((found) => {
      tools = found;
      for (const t of found) if (t.required && !t.present) logger.warn(`required tool ${t.name} is missing; install the Debian package ${t.package}`);
    });

    await engine.start();
    await buildTasks.cleanLeftovers(async (id) => (await engine.get(id).catch(() => undefined))?.status);
    await imageDigests.resumeAll();
    // Every request is answered knowing its caller: the kernel's peer credentials of its connection.
    http = createServer(createApp(apiRoutes(extensions.routes ?? []), ctx, (req) => callerOfSocket(req.socket)));
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
        await imageDigests.stop();
        await stopStore?.();
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
    await stopStore?.().catch(() => {});
    await db.close().catch(() => {});
    throw err;
  }
}
