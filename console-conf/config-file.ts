/** Reading the --config file: a regular file within LIMITS, then parseConfig(). */
import { defaultConfig, parseConfig, type ConsoleConfConfig } from './config.js';
import { ccError, isCoreforgeError } from './errors.js';
import { readRegular } from './fs-edge.js';
import { LIMITS } from './limits.js';

/** The config at `path` (the defaults without one); a FIFO, a device or a file over the limit is refused unread. */
export async function loadConfig(path: string | undefined): Promise<ConsoleConfConfig> {
  if (!path) return defaultConfig();
  const fail = (why: string, fix: string) => ccError('invalid-config', `cannot use config ${path}: ${why}; ${fix}`);
  let text: string | undefined;
  try {
    // --config names a file the administrator chose: a symlink to a regular file is fine
    text = await readRegular(path, { maxBytes: LIMITS.maxYamlFileBytes, follow: true, fail });
  } catch (err) {
    if (isCoreforgeError(err)) throw err;
    throw ccError('invalid-config', `cannot read config ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}; check the path`);
  }
  if (text === undefined) throw ccError('invalid-config', `cannot read config ${path}: ENOENT; check the path`);
  return parseConfig(text, path);
}
