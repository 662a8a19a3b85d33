import { isAlias, isMap, isScalar, isSeq, type Alias, type Node } from 'yaml';
import { parseBoundedDocument } from '../../bounded-yaml.js';

/**
 * A YAML document as plain values where every scalar stays the text it was
 * written as, the way snapd's yaml.v2 decodes into string fields: `type: 0C`,
 * `type: 83` and `size: 440` all arrive as strings, leading zeros intact.
 * Plain `~`, `null` and empty scalars become null. Mappings are Maps, which
 * keep the file's key order and treat keys such as `__proto__` as plain keys.
 */
export type YamlValue = string | null | YamlValue[] | Map<string, YamlValue>;

const nullScalars = new Set(['', '~', 'null', 'Null', 'NULL']);

type Target = (alias: Alias) => Node | undefined;

function toPlain(node: unknown, target: Target): YamlValue {
  if (node == null) return null;
  if (isAlias(node)) return toPlain(target(node), target);
  if (isScalar(node)) {
    const text = String(node.value ?? '');
    return node.type === 'PLAIN' && nullScalars.has(text) ? null : text;
  }
  if (isSeq(node)) return node.items.map((item) => toPlain(item, target));
  if (isMap(node)) {
    const out = new Map<string, YamlValue>();
    for (const pair of node.items) {
      const key = toPlain(pair.key as Node, target);
      if (typeof key !== 'string') throw new Error('mapping keys must be strings');
      out.set(key, toPlain(pair.value as Node, target));
    }
    return out;
  }
  return null;
}

/**
 * Parses YAML text into plain values with string scalars; throws Error with the
 * parser's message on bad YAML, and with the rule and the fix when the text is
 * over coreforged's YAML limits (size, alias expansion, depth: see bounded-yaml.ts),
 * before anything is expanded. `file` names the text in those messages.
 */
export function parseYamlTree(text: string, file = 'gadget.yaml'): YamlValue {
  let parsed;
  try {
    parsed = parseBoundedDocument(text, file, { schema: 'failsafe', uniqueKeys: true });
  } catch (err) {
    throw new Error((err as Error).message.split('\n')[0]);
  }
  return toPlain(parsed.doc.contents, parsed.target);
}
