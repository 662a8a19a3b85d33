/** Finding and reading the headless first-boot file under the root: a regular file within LIMITS, then parseFirstBoot(). */
import { ccError, isCoreforgeError } from './errors.js';
import { parseFirstBoot, type FirstBoot } from './first-boot.js';
import { readRegular } from './fs-edge.js';
import { LIMITS } from './limits.js';
import { FIRST_BOOT_PATHS, safeUnderRoot } from './paths.js';

/**
 * The first first-boot file found (FIRST_BOOT_PATHS, UC16/18 place first),
 * with the device path it came from; undefined when there is none. A FIFO or
 * a device there (which would block or never end) and a file over the limit
 * are refused before they are read.
 */
export async function readFirstBootFile(root: string): Promise<(FirstBoot & { path: string }) | undefined> {
  for (const devicePath of FIRST_BOOT_PATHS) {
    const path = `/${devicePath}`;
    const fail = (why: string, fix: string) => ccError('invalid-first-boot', `cannot use first-boot file ${path}: ${why}; ${fix}`);
    let text: string | undefined;
    try {
      // safeUnderRoot: a symlink under --root must not lead to the host's own seed; one inside the root may be followed
      text = await readRegular(await safeUnderRoot(root, devicePath), { maxBytes: LIMITS.maxYamlFileBytes, follow: true, fail });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') continue;
      if (isCoreforgeError(err)) throw err;
      throw ccError('invalid-first-boot', `cannot read first-boot file ${path}: ${code ?? String(err)}; make it a readable file or remove it`);
    }
    if (text === undefined) continue;
    return { ...parseFirstBoot(text, path), path };
  }
  return undefined;
}
