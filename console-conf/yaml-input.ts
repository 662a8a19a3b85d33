/** Parsing console-conf's own YAML inputs (the --config file, the first-boot file) within LIMITS. */
import { parse as parseYaml } from 'yaml';
import { formatBytes, LIMITS } from './limits.js';

/** Builds the caller's error from what is wrong (`why`) and what to do (`fix`). */
export type InputProblem = (why: string, fix: string) => Error;

/**
 * Parses `text` as YAML (JSON included), refusing through `fail` a text over
 * LIMITS.maxYamlFileBytes, aliases that expand past LIMITS.maxYamlAliasCount
 * (an alias bomb of a few hundred bytes would otherwise expand to gigabytes)
 * and nesting deeper than LIMITS.maxYamlDepth. `what` names the syntax in the
 * message ("YAML", "JSON or YAML").
 */
export function parseBoundedYaml(text: string, fail: InputProblem, what = 'YAML'): unknown {
  const size = Buffer.byteLength(text);
  if (size > LIMITS.maxYamlFileBytes) throw fail(`it is ${size} bytes, over the limit of ${formatBytes(LIMITS.maxYamlFileBytes)}`, 'make it smaller');
  let v: unknown;
  try {
    v = parseYaml(text, { maxAliasCount: LIMITS.maxYamlAliasCount });
  } catch (err) {
    // the yaml package's own words for maxAliasCount; other ReferenceErrors are unresolved aliases
    if (err instanceof ReferenceError && /excessive alias count/i.test(err.message)) {
      throw fail(
        `its aliases (*name) expand past the limit of ${LIMITS.maxYamlAliasCount} alias expansions`,
        'write the repeated values out instead of using anchors (&name) and aliases',
      );
    }
    throw fail(`it is not valid ${what} (${firstLine(err)})`, 'fix the syntax');
  }
  if (depthOver(v, LIMITS.maxYamlDepth)) {
    throw fail(`it nests mappings and lists deeper than ${LIMITS.maxYamlDepth} levels`, 'flatten it');
  }
  return v;
}

/** True when `v` has mappings or lists nested deeper than `max` (walked without recursion). */
function depthOver(v: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[v, 0]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (typeof node !== 'object' || node === null) continue;
    if (depth + 1 > max) return true;
    for (const child of Array.isArray(node) ? node : Object.values(node)) stack.push([child, depth + 1]);
  }
  return false;
}

/** The first line of an error's message, lowercased for use inside another message. */
export function firstLine(err: unknown): string {
  const m = err instanceof Error ? err.message : String(err);
  return (m.split('\n')[0] ?? '').replace(/\.$/, '').replace(/^./, (c) => c.toLowerCase());
}
