import type { Command } from 'commander';
import { CoreforgeClient } from './api.js';

export const defaultSocket = '/run/coreforge.socket';

/** What every command needs: the daemon, the output streams, and how to print. */
export interface CliContext {
  client(): CoreforgeClient;
  socketPath(): string;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  /** Prints a value as indented JSON (for --json). */
  printJson(value: unknown): void;
  /** Sets the process exit code without exiting (so streams flush). */
  setExitCode(code: number): void;
}

/** Commander's argParser for a repeatable option: each use adds its value to the list. */
export const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** Adds --json to a command that prints data. */
export function withJson(cmd: Command): Command {
  return cmd.option('--json', 'print machine-readable JSON instead of text');
}

export function createCliContext(program: Command, env: NodeJS.ProcessEnv): CliContext & { dispose(): void } {
  let client: CoreforgeClient | undefined;
  const socketPath = () => (program.opts<{ socket?: string }>().socket ?? env.COREFORGE_SOCKET ?? defaultSocket);
  return {
    client: () => (client ??= new CoreforgeClient(socketPath())),
    socketPath,
    stdout: process.stdout,
    stderr: process.stderr,
    printJson: (value) => process.stdout.write(JSON.stringify(value, null, 2) + '\n'),
    setExitCode: (code) => {
      process.exitCode = code;
    },
    dispose: () => client?.close(),
  };
}
