import { isAlias, isMap, isSeq, parseDocument, visit, type Alias, type Document, type DocumentOptions, type Node, type ParseOptions, type SchemaOptions } from 'yaml';

/**
 * YAML from a request (gadget.yaml, a snap's meta/snap.yaml) parsed within
 * bounds, so a small file cannot make the daemon expand it without end: the
 * 516-byte "billion laughs" gadget.yaml held coreforged at 3 GB for minutes.
 * The text is bounded before parsing (parse time grows with it: about 0.4 s
 * for 256 KiB), then how far aliases expand it and how deep it nests are
 * measured on the parsed tree without expanding anything, before any caller
 * walks it. Pure: no I/O.
 */

/** Bounds on one YAML document. */
export interface YamlLimits {
  /** size of the text, in bytes */
  maxBytes: number;
  /** nodes that aliases may add to the document beyond those written out in it */
  maxAliasNodes: number;
  /** nesting of mappings and sequences, aliases expanded */
  maxDepth: number;
}

/** The limits every YAML parse of coreforged uses: real gadget.yaml and snap.yaml files are a few KiB, with few aliases, a dozen levels deep. */
export const yamlLimits: YamlLimits = { maxBytes: 256 * 1024, maxAliasNodes: 10_000, maxDepth: 64 };

/** A document over one of the limits; the message names the file, the rule and the fix. */
export class YamlLimitError extends Error {
  override readonly name = 'YamlLimitError';
}

/** A parsed document within limits, with each alias's node found once (yaml's Alias.resolve searches the whole document per call). */
export interface BoundedDocument {
  doc: Document.Parsed;
  /** the node an alias stands for */
  target(alias: Alias): Node | undefined;
}

type Options = ParseOptions & DocumentOptions & SchemaOptions;

/**
 * Parses one YAML document within `limits`. Throws YamlLimitError when it is
 * over one, and the parser's first error (YAMLParseError) when it is not
 * valid YAML. `file` names the document in messages, e.g. "meta/snap.yaml".
 */
export function parseBoundedDocument(text: string, file: string, options: Options = {}, limits: YamlLimits = yamlLimits): BoundedDocument {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > limits.maxBytes) {
    throw new YamlLimitError(`${file} is larger than ${limits.maxBytes / 1024} KiB (${bytes} bytes); shorten it, such files are a few KiB`);
  }
  const doc = parseDocument(text, { logLevel: 'error', ...options });
  const first = doc.errors[0];
  if (first) throw first;

  // The node each alias names: the last anchor of that name before it, in document order (YAML 1.2, as yaml resolves it).
  const anchors = new Map<string, Node>();
  const targets = new Map<Alias, Node>();
  let written = 0;
  visit(doc, {
    Node(_key, node) {
      if (isAlias(node)) {
        const found = anchors.get(node.source);
        if (found) targets.set(node, found);
        return;
      }
      written++;
      if (node.anchor) anchors.set(node.anchor, node);
    },
  });

  if (measure(doc.contents, file, targets, limits) - written > limits.maxAliasNodes) {
    throw new YamlLimitError(
      `${file} has aliases that expand it by more than ${limits.maxAliasNodes} nodes (a YAML alias bomb?); write the repeated parts out instead of nesting aliases`,
    );
  }
  return { doc, target: (alias) => targets.get(alias) };
}

/**
 * The number of nodes of the document with every alias expanded, computed
 * once per node (never by expanding), checking depth as it goes.
 */
function measure(root: unknown, file: string, targets: Map<Alias, Node>, limits: YamlLimits): number {
  const sizes = new Map<unknown, { size: number; height: number }>();
  const open = new Set<unknown>();
  const tooDeep = () => new YamlLimitError(`${file} nests mappings and lists more than ${limits.maxDepth} levels deep (aliases expanded); flatten it`);

  const walk = (node: unknown, depth: number): { size: number; height: number } => {
    if (isAlias(node)) {
      const target = targets.get(node);
      if (target === undefined) return { size: 1, height: 0 };
      if (open.has(target)) {
        throw new YamlLimitError(`${file} has an alias *${node.source} inside the node it names, which never ends; remove that alias`);
      }
      node = target;
    }
    const known = sizes.get(node);
    if (known) {
      if (depth + known.height > limits.maxDepth) throw tooDeep();
      return known;
    }
    if (!isSeq(node) && !isMap(node)) return { size: 1, height: 0 };
    // a mapping or list at `depth` is nesting level depth + 1
    if (depth + 1 > limits.maxDepth) throw tooDeep();
    const children: unknown[] = isSeq(node) ? node.items : node.items.flatMap((pair) => [pair.key, pair.value]);
    open.add(node);
    let size = 1;
    let height = 1;
    for (const child of children) {
      if (child === null || child === undefined) continue;
      const m = walk(child, depth + 1);
      size += m.size;
      height = Math.max(height, m.height + 1);
    }
    open.delete(node);
    const result = { size, height };
    sizes.set(node, result);
    return result;
  };
  return root === null || root === undefined ? 0 : walk(root, 0).size;
}

/** Parses one YAML document within limits into plain JavaScript values (yaml's toJS); errors as parseBoundedDocument. */
export function parseBoundedYaml(text: string, file: string, options: Options = {}, limits: YamlLimits = yamlLimits): unknown {
  // the aliases were measured exactly: yaml's own heuristic count (maxAliasCount) is not needed on top
  return parseBoundedDocument(text, file, options, limits).doc.toJS({ maxAliasCount: -1 });
}
