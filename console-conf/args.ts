/** Command-line flags of console-conf, read with node:util parseArgs as the daemon reads its own. */
import { parseArgs as parseArgv } from 'node:util';
import { ccError } from './errors.js';

export interface Args {
  serial: boolean;
  root: string;
  config?: string;
  help: boolean;
}

export const USAGE = 'usage: console-conf [--serial] [--root DIR] [--config FILE]';

const options = {
  serial: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  root: { type: 'string' },
  config: { type: 'string' },
} as const;

/**
 * Parses argv (without node and the script). Not strict: parseArgs gives the
 * tokens and this refuses, in argument order, what is not a known flag (with
 * the argument as typed) and a flag without its value, in console-conf's words.
 */
export function parseArgs(argv: string[]): Args {
  const out: Args = { serial: false, root: '/', help: false };
  const { tokens } = parseArgv({ args: argv, options, strict: false, allowPositionals: true, tokens: true });
  for (const t of tokens) {
    const unknown = () => ccError('invalid-config', `cannot use argument "${argv[t.index]}": it is not a known flag; ${USAGE}`);
    if (t.kind !== 'option' || !Object.hasOwn(options, t.name)) throw unknown();
    const name = t.name as keyof typeof options;
    if (options[name].type === 'boolean') {
      if (t.value !== undefined) throw unknown();
      out[name as 'serial' | 'help'] = true;
    } else {
      // `--root=` names an empty value on purpose; `--root ""` or a final `--root` forgot it
      if (t.value === undefined || (t.value === '' && !t.inlineValue)) throw ccError('invalid-config', `cannot use --${name}: it needs a value; ${USAGE}`);
      out[name as 'root' | 'config'] = t.value;
    }
  }
  return out;
}
