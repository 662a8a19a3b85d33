import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeStream, type Assertion } from '../asserts/index.js';

/**
 * Where the built-in trusted roots (Canonical's root account-key and account,
 * public data from snapd) live: daemon/asserts/roots/, found whether running
 * from source (tsx) or from dist/ next to the sources.
 */
export function builtinRootsDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  let dir = here;
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'daemon', 'asserts', 'roots');
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  return join(here, '..', 'asserts', 'roots');
}

/** Decodes every assertion file of a roots directory (sorted, so the order is stable). */
export function loadRoots(dir: string = builtinRootsDir()): Assertion[] {
  const out: Assertion[] = [];
  for (const f of readdirSync(dir).sort()) {
    if (f.startsWith('.') || f.endsWith('.md')) continue;
    out.push(...decodeStream(readFileSync(join(dir, f))));
  }
  return out;
}
