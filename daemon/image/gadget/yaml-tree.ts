import { isAlias, isMap, isScalar, isSeq, parseDocument, type Document, type Node } from 'yaml';

/**
 * A YAML document as plain values where every scalar stays the text it was
 * written as, the way snapd's yaml.v2 decodes into string fields: `type: 0C`,
 * `type: 83` and `size: 440` all arrive as strings, leading zeros intact.
 * Plain `~`, `null` and empty scalars become null. Mappings are Maps, which
 * keep the file's key order and treat keys such as `__proto__` as plain keys.
 */
export type YamlValue = string | null | YamlValue[] | Map<string, YamlValue>;

const nullScalars = new Set(['', '~', 'null', 'Null', 'NULL']);

function toPlain(node: unknown, doc: Document): YamlValue {
  if (node == null) return null;
  if (isAlias(node)) return toPlain(node.resolve(doc), doc);
  if (isScalar(node)) {
    const text = String(node.value ?? '');
    return node.type === 'PLAIN' && nullScalars.has(text) ? null : text;
  }
  if (isSeq(node)) return node.items.map((item) => toPlain(item, doc));
  if (isMap(node)) {
    const out = new Map<string, YamlValue>();
    for (const pair of node.items) {
      const key = toPlain(pair.key as Node, doc);
      if (typeof key !== 'string') throw new Error('mapping keys must be strings');
      out.set(key, toPlain(pair.value as Node, doc));
    }
    return out;
  }
  return null;
}

/** Parses YAML text into plain values with string scalars; throws Error with the parser's message on bad YAML. */
export function parseYamlTree(text: string): YamlValue {
  const doc = parseDocument(text, { schema: 'failsafe', logLevel: 'error', uniqueKeys: true });
  const first = doc.errors[0];
  if (first) throw new Error(first.message.split('\n')[0]);
  return toPlain(doc.contents, doc);
}
