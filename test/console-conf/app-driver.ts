import { PassThrough } from 'node:stream';
import { runConsoleConf, type AppDeps } from '../../console-conf/app.js';
import { defaultConfig, type ConsoleConfConfig } from '../../console-conf/config.js';
import { InputClosed, Terminal } from '../../console-conf/tui/terminal.js';
import { basicTheme } from '../../console-conf/tui/themes.js';

export interface Driven {
  type(line: string): void;
  /** waits for `text` to appear after the last match (output is unwrapped: newlines become spaces) */
  waitFor(text: string, timeoutMs?: number): Promise<void>;
  output(): string;
  done: Promise<number>;
  /** ends the input (like a hang-up) and waits for the app to finish */
  stop(): Promise<void>;
  /** goes through the welcome and network screens (Enter on each) and types `identity` at the Email: prompt */
  submitIdentity(identity: string): Promise<void>;
}

/** Runs the app in-process on pipes with the basic theme (fast, for bad-input tables and the bench). */
export function driveApp(root: string, config: Partial<ConsoleConfConfig>, extra: Partial<AppDeps> = {}): Driven {
  const input = new PassThrough();
  const output = new PassThrough();
  let out = '';
  const waiters = new Set<() => void>();
  output.on('data', (c: Buffer) => {
    out += c.toString();
    for (const w of waiters) w();
  });
  const term = new Terminal({ input, output, size: () => ({ columns: 1000, rows: 24 }) }, basicTheme);
  const done = runConsoleConf({
    root,
    config: { ...defaultConfig(), netplanApply: ['true'], ...config },
    backend: 'direct',
    term,
    addresses: () => ({ eth0: ['192.0.2.7'] }),
    markerPollMs: 50,
    netWaitMs: 200,
    ...extra,
  })
    .catch((err: unknown) => {
      if (err instanceof InputClosed) return -1;
      throw err;
    })
    .finally(() => term.dispose());
  let seen = 0;
  return {
    type: (line) => input.write(line + '\r'),
    async submitIdentity(identity) {
      await this.waitFor('Press Enter to configure.');
      this.type('');
      await this.waitFor('Choice:');
      this.type('');
      await this.waitFor('Email:');
      this.type(identity);
    },
    output: () => out,
    done,
    stop: async () => {
      input.end();
      await done.catch(() => {});
    },
    waitFor(text, timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const i = out.replace(/\r\n/g, ' ').indexOf(text, seen);
          if (i >= 0) {
            seen = i + 1;
            waiters.delete(check);
            clearTimeout(timer);
            resolve();
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out waiting for ${JSON.stringify(text)}; output:\n${out}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
  };
}
