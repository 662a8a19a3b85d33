#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { packageVersion } from '../common/version.js';
import { registerAssertionCommands } from './commands/assertions.js';
import { registerBuildCommands } from './commands/build.js';
import { registerChangeCommands } from './commands/changes.js';
import { registerCompletionCommand } from './commands/completion.js';
import { registerFlashCommands } from './commands/flash.js';
import { registerKeyCommands } from './commands/keys.js';
import { registerLoginCommands } from './commands/login.js';
import { registerStoreCommands } from './commands/store.js';
import { registerSystemCommands } from './commands/system.js';
import { createCliContext, defaultSocket } from './context.js';
import { ApiCallError, DaemonUnreachableError } from './transport.js';

/** Builds the `coreforge` command tree; exported so tests can run it in-process. */
export function buildProgram(env: NodeJS.ProcessEnv): { program: Command; dispose(): void } {
  const program = new Command('coreforge')
    .description('Build, sign and flash Ubuntu Core images through the coreforged daemon')
    .version(packageVersion(), '--version', 'print the client version')
    .option('--socket <path>', `coreforged socket (env COREFORGE_SOCKET, default ${defaultSocket})`)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  const cli = createCliContext(program, env);
  registerSystemCommands(program, cli);
  registerChangeCommands(program, cli);
  registerFlashCommands(program, cli);
  registerKeyCommands(program, cli, env);
  registerLoginCommands(program, cli, env);
  registerStoreCommands(program, cli);
  registerAssertionCommands(program, cli, env);
  registerBuildCommands(program, cli);
  registerCompletionCommand(program, cli);
  for (const cmd of program.commands) cmd.exitOverride();
  return { program, dispose: cli.dispose };
}

/** Runs the CLI and returns the exit code: 0 ok, 1 failure, 2 daemon unreachable or usage error. */
export async function runCli(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { program, dispose } = buildProgram(env);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    if (err instanceof DaemonUnreachableError) {
      process.stderr.write(`error: ${err.message}\n`);
      return 2;
    }
    if (err instanceof ApiCallError) {
      process.stderr.write(`error: ${err.message}\n`);
      return 1;
    }
    process.stderr.write(`error: ${(err as Error).message}\n`);
    return 1;
  } finally {
    dispose();
  }
}

/**
 * A reader that went away (`coreforge builds | head -1`) ends the command
 * quietly, as SIGPIPE ends C tools: no stack trace, nothing more to say, and
 * the exit code the command had so far (0 unless it had already failed).
 */
export function stopQuietlyOnClosedPipe(stream: NodeJS.WriteStream): void {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED') process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
    throw err;
  });
}

stopQuietlyOnClosedPipe(process.stdout);
stopQuietlyOnClosedPipe(process.stderr);
process.exitCode = await runCli(process.argv.slice(2), process.env);
