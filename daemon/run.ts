import { parseArgs } from 'node:util';
import { isCoreforgeError } from './errors.js';
import { createLogger, logLevels, type LogLevel } from './log.js';
import { startDaemon, type DaemonExtensions } from './daemon.js';
import { packageVersion } from './api/version.js';

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
    let signalled = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (signalled) {
        logger.warn(`second ${signal}: exiting without waiting for changes`);
        resolve(1);
        return;
      }
      signalled = true;
      logger.info(`received ${signal}`);
      running.stop().then(
        () => resolve(0),
        (err: Error) => {
          logger.error(`unclean stop: ${err.message}`);
          resolve(1);
        },
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}
