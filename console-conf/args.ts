/** Command-line flags of console-conf. */
import { ccError } from './errors.js';

export interface Args {
  serial: boolean;
  root: string;
  config?: string;
  help: boolean;
}

export const USAGE = 'usage: console-conf [--serial] [--root DIR] [--config FILE]';

/** Parses argv (without node and the script). */
export function parseArgs(argv: string[]): Args {
  const out: Args = { serial: false, root: '/', help: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (flag: string) => {
      const eq = a.indexOf('=');
      if (eq > 0) return a.slice(eq + 1);
      const v = argv[++i];
      if (v === undefined || v === '') throw ccError('invalid-config', `cannot use ${flag}: it needs a value; ${USAGE}`);
      return v;
    };
    if (a === '--serial') out.serial = true;
    else if (a === '--help' || a === '-h') out.help = true;
    else if (a === '--root' || a.startsWith('--root=')) out.root = value('--root');
    else if (a === '--config' || a.startsWith('--config=')) out.config = value('--config');
    else throw ccError('invalid-config', `cannot use argument "${a}": it is not a known flag; ${USAGE}`);
  }
  return out;
}
