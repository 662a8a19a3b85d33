import { parseArgs } from 'node:util';
import { isCoreforgeError } from './errors.js';
import { createLogger, logLevels, type LogLevel } from './log.js';
import { startDaemon, type DaemonExtensions } from './daemon.js';
import { packageVersion } from '../common/version.js';

export const defaultSocket = '/run/coreforge.socket';
export const defaultStateDir = '/var/lib/coreforge';

const usage = `Usage: coreforged [OPTIONS]

The coreforge host daemon: keys, assertions, store, image builds and flashing,
served as a REST API on a Unix socket (use the \`coreforge\` CLI to talk to it).

Options:
  --socket PATH        Unix socket to listen on (env COREFORGE_SOCKET)
                       default ${defaultSocket}; ignored under systemd socket activation
  --state-dir DIR      where state.db, keys, the store and builds live
                       (env COREFORGE_STATE_DIR) default ${defaultStateDir}
  --log-level LEVEL    ${logLevels.join('|')} (env COREFORGE_LOG_LEVEL) default info
  --store-url URL      store API (default https://api.snapcraft.io)
  --sso-url URL        SSO (default https://login.ubuntu.com)
  --dashboard-url URL  dashboard (default https://dashboard.snapcraft.io)
  --offline            use the embedded local store (served on a private
                       127.0.0.1 port) instead of the real services
  --store-listen ADDR:PORT
                       serve the embedded local store over HTTP, e.g.
                       127.0.0.1:8181 (snapd: SNAPPY_FORCE_API_URL=http://ADDR:PORT)
  -h, --help           show this help
  --version            print the version

Environment:
  COREFORGE_TOOL_PATH  search only these directories (colon-separated) for mkfs, mksquashfs...
  JOURNAL_STREAM       set by systemd: log lines then carry journald priorities

Example (development, no root needed):
  coreforged --socket /tmp/cf.sock --state-dir ~/.local/state/coreforge
`;

/**
 * The coreforged process: flags and environment, logging, signals. Returns the
 * exit code. `extensions` lets a test entry point add task kinds in-process.
 */
export async function runDaemonMain(argv: string[], env: NodeJS.ProcessEnv, extensions: DaemonExtensions = {}): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        socket: { type: 'string' },
        'state-dir': { type: 'string' },
        'log-level': { type: 'string' },
        'store-url': { type: 'string' },
        'sso-url': { type: 'string' },
        'dashboard-url': { type: 'string' },
        offline: { type: 'boolean' },
        'store-listen': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    process.stderr.write(`coreforged: ${(err as Error).message}\n\n${usage}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(usage);
    return 0;
  }
  if (values.version) {
    process.stdout.write(`coreforged ${packageVersion()}\n`);
    return 0;
  }
  const level = (values['log-level'] ?? env.COREFORGE_LOG_LEVEL ?? 'info') as LogLevel;
  if (!logLevels.includes(level)) {
    process.stderr.write(`coreforged: --log-level ${JSON.stringify(level)} is not one of ${logLevels.join(', ')}\n`);
    return 2;
  }
  const logger = createLogger({ level, write: (l) => process.stderr.write(l), journald: env.JOURNAL_STREAM !== undefined });
  // Signals are caught from the first moment: one that arrives while the daemon
  // starts (the socket may already answer) stops it as soon as it is up.
  let signalled: NodeJS.Signals | undefined;
  let onSignal: (signal: NodeJS.Signals) => void = (signal) => (signalled ??= signal);
  const dispatch = (signal: NodeJS.Signals) => onSignal(signal);
  process.on('SIGTERM', dispatch);
  process.on('SIGINT', dispatch);
  let daemon;
  try {
    daemon = await startDaemon(
      {
        socketPath: values.socket ?? env.COREFORGE_SOCKET ?? defaultSocket,
        stateDir: values['state-dir'] ?? env.COREFORGE_STATE_DIR ?? defaultStateDir,
        logger,
        env,
        pid: process.pid,
        shutdownGraceMs: 10_000,
        store: {
          ...(values['store-url'] !== undefined ? { storeUrl: values['store-url'] } : {}),
          ...(values['sso-url'] !== undefined ? { ssoUrl: values['sso-url'] } : {}),
          ...(values['dashboard-url'] !== undefined ? { dashboardUrl: values['dashboard-url'] } : {}),
          ...(values.offline ? { offline: true } : {}),
          ...(values['store-listen'] !== undefined ? { storeListen: values['store-listen'] } : {}),
        },
      },
      extensions,
    );
  } catch (err) {
    if (isCoreforgeError(err)) logger.error(err.message, { kind: err.kind });
    else logger.error(`cannot start: ${(err as Error).stack ?? String(err)}`);
    return 1;
  }
  const running = daemon;
  return new Promise<number>((resolve) => {
    let stopping = false;
    onSignal = (signal) => {
      if (stopping) {
        logger.warn(`second ${signal}: exiting without waiting for changes`);
        resolve(1);
        return;
      }
      stopping = true;
      logger.info(`received ${signal}`);
      running.stop().then(
        () => resolve(0),
        (err: Error) => {
          logger.error(`unclean stop: ${err.message}`);
          resolve(1);
        },
      );
    };
    if (signalled) onSignal(signalled);
  });
}
