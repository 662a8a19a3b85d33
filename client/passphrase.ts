import { openTerminal } from './terminal.js';
import { readUserFile } from './files.js';

/** Where a passphrase may come from, in order: --passphrase-file, COREFORGE_PASSPHRASE, the terminal. */
export interface PassphraseOptions {
  /** The key it unlocks, named in the prompt: `Passphrase for key "default": `. */
  key: string;
  /** Shown after the key's name, e.g. "(new key)". */
  note?: string;
  file?: string;
  env: NodeJS.ProcessEnv;
  /** ask twice on a terminal (new keys), as `snap create-key` does */
  confirm?: boolean;
  /** the terminal to prompt on; /dev/tty, so prompts work while stdin/stdout are redirected */
  ttyPath?: string;
}

/** The first line of a passphrase file, without its newline (as gpg --passphrase-file reads it). */
async function fromFile(path: string): Promise<string> {
  const text = await readUserFile(path, 'passphrase file', 'check the path and its permissions');
  return text.split('\n')[0]!.replace(/\r$/, '');
}

/** A secret asked on the terminal: the prompt, what it is (for errors), and how to give it without a terminal. */
export interface HiddenPrompt {
  prompt: string;
  /** 'passphrase for key "default"', 'password of "me@example.com"' */
  what: string;
  /** 'pass --passphrase-file FILE or set COREFORGE_PASSPHRASE': the command's own flag and variable */
  hint: string;
  ttyPath?: string;
}

/**
 * Reads one line from the terminal without echo: raw mode, so nothing typed is
 * shown; backspace and Ctrl-U edit, Enter ends, Ctrl-C and Ctrl-D cancel.
 */
export function promptHidden({ prompt, what, hint, ttyPath = '/dev/tty' }: HiddenPrompt): Promise<string> {
  const terminal = openTerminal(ttyPath);
  if (!terminal) {
    return Promise.reject(new Error(`cannot read ${what}: there is no terminal to prompt on; ${hint}`));
  }
  const { input, output } = terminal;
  // raw mode first: whatever is typed once the prompt shows is never echoed
  input.setRawMode(true);
  output.write(prompt);
  return new Promise<string>((resolve, reject) => {
    let typed = '';
    const finish = (err: Error | null) => {
      input.off('data', onData);
      input.setRawMode(false);
      input.pause();
      output.write('\n');
      // the streams own their fds and close them
      input.destroy();
      output.destroy();
      if (err) reject(err);
      else resolve(typed);
    };
    const onData = (chunk: Buffer) => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return finish(null);
        if (ch === '\u0003' || (ch === '\u0004' && typed === '')) return finish(new Error(`cannot read ${what}: cancelled`));
        if (ch === '\u0004') return finish(null);
        if (ch === '\u007f' || ch === '\b') typed = [...typed].slice(0, -1).join('');
        else if (ch === '\u0015') typed = '';
        else if (ch >= ' ') typed += ch;
      }
    };
    input.on('data', onData);
    input.resume();
  });
}

/** Gets the passphrase for one operation; it is sent to coreforged and then dropped. */
export async function readPassphrase(options: PassphraseOptions): Promise<string> {
  if (options.file !== undefined) return fromFile(options.file);
  const fromEnv = options.env.COREFORGE_PASSPHRASE;
  if (fromEnv !== undefined) return fromEnv;
  const key = `key ${JSON.stringify(options.key)}`;
  const ask = (prompt: string) =>
    promptHidden({ prompt, what: `passphrase for ${key}`, hint: 'pass --passphrase-file FILE or set COREFORGE_PASSPHRASE', ...(options.ttyPath ? { ttyPath: options.ttyPath } : {}) });
  const first = await ask(`Passphrase for ${key}${options.note ? ` ${options.note}` : ''}: `);
  if (!options.confirm) return first;
  const second = await ask(`Confirm passphrase for ${key}: `);
  if (first !== second) throw new Error(`cannot use the passphrase for ${key}: the two passphrases typed differ; type the same one twice`);
  return first;
}
