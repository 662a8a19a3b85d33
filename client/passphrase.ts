import { openTerminal } from './terminal.js';
import { readFile } from 'node:fs/promises';

/** Where a passphrase may come from, in order: --passphrase-file, COREFORGE_PASSPHRASE, the terminal. */
export interface PassphraseOptions {
  file?: string;
  env: NodeJS.ProcessEnv;
  /** ask twice on a terminal (new keys), as `snap create-key` does */
  confirm?: boolean;
  /** the terminal to prompt on; /dev/tty, so prompts work while stdin/stdout are redirected */
  ttyPath?: string;
}

/** The first line of a passphrase file, without its newline (as gpg --passphrase-file reads it). */
async function fromFile(path: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot read passphrase file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}; check the path and its permissions`);
  }
  return text.split('\n')[0]!.replace(/\r$/, '');
}

/**
 * Reads one line from the terminal without echo: raw mode, so nothing typed is
 * shown; backspace and Ctrl-U edit, Enter ends, Ctrl-C and Ctrl-D cancel.
 */
export function promptHidden(prompt: string, ttyPath = '/dev/tty'): Promise<string> {
  const terminal = openTerminal(ttyPath);
  if (!terminal) {
    return Promise.reject(
      new Error('cannot read passphrase: there is no terminal to prompt on; pass --passphrase-file FILE or set COREFORGE_PASSPHRASE'),
    );
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
        if (ch === '\u0003' || (ch === '\u0004' && typed === '')) return finish(new Error('cannot read passphrase: cancelled'));
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
  const first = await promptHidden('Passphrase: ', options.ttyPath);
  if (!options.confirm) return first;
  const second = await promptHidden('Confirm passphrase: ', options.ttyPath);
  if (first !== second) throw new Error('passphrases do not match');
  return first;
}
