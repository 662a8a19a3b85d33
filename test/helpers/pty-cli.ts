// The coreforge CLI on a pseudo-terminal, for prompts: what a user sees and types.
import * as pty from 'node-pty';
import { cliEntry, repoRoot } from './daemon.js';

/** One scripted answer: typed (with Enter) the first time `prompt` appears on the screen after the previous answer. */
export interface PtyAnswer {
  prompt: string | RegExp;
  type: string;
}

/**
 * Runs `coreforge ARGS` on a pty with COREFORGE_SOCKET set, answering prompts
 * in order; resolves with the exit code and everything the terminal showed.
 * `env` entries set to undefined are removed from the environment.
 */
export function runCliOnPty(
  args: string[],
  opts: { socketPath: string; answers?: PtyAnswer[]; env?: Record<string, string | undefined>; timeoutMs?: number },
): Promise<{ code: number; screen: string }> {
  return new Promise((resolve, reject) => {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries({ ...process.env, COREFORGE_SOCKET: opts.socketPath, ...opts.env })) if (v !== undefined) env[k] = v;
    const term = pty.spawn(process.execPath, ['--import', 'tsx', cliEntry, ...args], { name: 'xterm', cols: 160, rows: 40, cwd: repoRoot, env });
    const answers = [...(opts.answers ?? [])];
    let screen = '';
    let from = 0;
    const timer = setTimeout(() => {
      term.kill('SIGKILL');
      reject(new Error(`coreforge ${args.join(' ')} timed out on the pty; the screen:\n${screen}`));
    }, opts.timeoutMs ?? 60_000);
    term.onData((d) => {
      screen += d;
      const next = answers[0];
      if (!next) return;
      const rest = screen.slice(from);
      const at = typeof next.prompt === 'string' ? rest.indexOf(next.prompt) : rest.search(next.prompt);
      if (at < 0) return;
      answers.shift();
      from = screen.length;
      term.write(`${next.type}\r`);
    });
    term.onExit(({ exitCode }) => {
      clearTimeout(timer);
      resolve({ code: exitCode, screen });
    });
  });
}
