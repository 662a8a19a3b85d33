#!/usr/bin/env node
/** Entry of `console-conf`: flags, config, backend choice, terminal set-up, then the app. */
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { runConsoleConf } from './app.js';
import { parseArgs, USAGE } from './args.js';
import { loadConfig } from './config-file.js';
import { ccError, isCoreforgeError } from './errors.js';
import { exists } from './fs-edge.js';
import { PATHS, underRoot } from './paths.js';
import { InputClosed, Terminal } from './tui/terminal.js';
import { basicTheme, richTheme } from './tui/themes.js';
import { SnapdClient } from './users-snapd.js';

/** A --root that does not exist (a typo) would have console-conf set up nothing real: refuse it before anything runs. */
async function requireRootDir(root: string): Promise<void> {
  let st;
  try {
    st = await stat(root);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such directory' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    throw ccError('invalid-config', `cannot use --root ${root}: ${why}; name the directory holding the device's files (its /etc, /var, /sys), or leave --root out on the device`);
  }
  if (!st.isDirectory()) {
    throw ccError('invalid-config', `cannot use --root ${root}: it is not a directory; name the directory holding the device's files (its /etc, /var, /sys), or leave --root out on the device`);
  }
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  if (args.help) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  const root = resolve(args.root);
  await requireRootDir(root);
  const config = await loadConfig(args.config);
  const socket = underRoot(root, PATHS.snapdSocket);
  const backend = config.backend ?? ((await exists(socket)) ? 'snapd' : 'direct');
  const stdin = process.stdin;
  if (stdin.isTTY) stdin.setRawMode(true);
  const term = new Terminal(
    {
      input: stdin,
      output: process.stdout,
      size: () => ({ columns: process.stdout.columns || 80, rows: process.stdout.rows || 24 }),
    },
    args.serial ? basicTheme : richTheme,
  );
  const onResize = () => term.redraw();
  process.stdout.on('resize', onResize);
  try {
    return await runConsoleConf({ root, config, backend, term, snapd: backend === 'snapd' ? new SnapdClient(socket) : undefined });
  } catch (err) {
    if (err instanceof InputClosed) return 0;
    throw err;
  } finally {
    term.dispose();
    process.stdout.off('resize', onResize);
    if (stdin.isTTY) stdin.setRawMode(false);
    stdin.pause();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`console-conf: ${isCoreforgeError(err) ? err.message : String((err as Error)?.stack ?? err)}\n`);
    process.exit(isCoreforgeError(err) ? 2 : 1);
  },
);
