import { imageError } from '../errors.js';
import { parseOffset, parseRelativeOffset, parseSize, type Parsed, type RelativeOffset } from './quantity.js';
import { parseYamlTree, type YamlValue } from './yaml-tree.js';

/**
 * gadget.yaml decoded field by field, before snapd's implicit values and rules
 * are applied: the shape yaml.v2 gives snapd. Strings default to ''.
 */

export interface ParsedContent {
  source: string;
  target: string;
  image: string;
  offset: number | undefined;
  size: number;
  unpack: boolean;
}

export interface ParsedStructure {
  name: string;
  label: string;
  type: string;
  role: string;
  id: string;
  filesystem: string;
  size: number;
  minSize: number;
  offset: number | undefined;
  offsetWrite: RelativeOffset | undefined;
  content: ParsedContent[];
  update: { edition: number; preserve: string[] };
}

export interface ParsedVolume {
  name: string;
  schema: string;
  bootloader: string;
  id: string;
  partial: string[];
  structures: ParsedStructure[];
}

export interface ParsedGadget {
  volumes: ParsedVolume[];
}

type YamlMap = Map<string, YamlValue>;
const emptyMap: YamlMap = new Map();

/** A decoding failure at a path such as `volumes.pc.structure[1].size`. */
class DecodeError extends Error {}

function fail(path: string, problem: string): never {
  throw new DecodeError(`${path}: ${problem}`);
}

function asMap(value: YamlValue, path: string): YamlMap | undefined {
  if (value === null) return undefined;
  if (!(value instanceof Map)) fail(path, 'expected a mapping');
  return value;
}

function asList(value: YamlValue, path: string): YamlValue[] {
  if (value === null) return [];
  if (!Array.isArray(value)) fail(path, 'expected a list');
  return value;
}

function asString(value: YamlValue | undefined, path: string): string {
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') fail(path, 'expected a single value, not a list or mapping');
  return value;
}

function unwrap<T>(parsed: Parsed<T>, path: string): T {
  if (!parsed.ok) fail(path, parsed.error);
  return parsed.value;
}

const yamlTrue = new Set(['true', 'True', 'TRUE', 'yes', 'Yes', 'YES', 'on', 'On', 'ON', 'y', 'Y']);
const yamlFalse = new Set(['false', 'False', 'FALSE', 'no', 'No', 'NO', 'off', 'Off', 'OFF', 'n', 'N']);

function asBool(value: YamlValue | undefined, path: string): boolean {
  const text = asString(value, path);
  if (text === '' || yamlFalse.has(text)) return false;
  if (yamlTrue.has(text)) return true;
  return fail(path, `cannot parse "${text}" as a boolean; use true or false`);
}

function parseContent(value: YamlValue, path: string): ParsedContent {
  const map = asMap(value, path) ?? emptyMap;
  const offset = asString(map.get('offset'), `${path}.offset`);
  const size = asString(map.get('size'), `${path}.size`);
  return {
    source: asString(map.get('source'), `${path}.source`),
    target: asString(map.get('target'), `${path}.target`),
    image: asString(map.get('image'), `${path}.image`),
    offset: offset === '' ? undefined : unwrap(parseOffset(offset), `${path}.offset`),
    size: size === '' ? 0 : unwrap(parseSize(size), `${path}.size`),
    unpack: asBool(map.get('unpack'), `${path}.unpack`),
  };
}

function parseUpdate(value: YamlValue | undefined, path: string): ParsedStructure['update'] {
  const map = asMap(value ?? null, path) ?? emptyMap;
  const edition = asString(map.get('edition'), `${path}.edition`);
  if (edition !== '' && !/^[0-9]+$/.test(edition)) {
    fail(`${path}.edition`, `"edition" must be a positive number, not "${edition}"`);
  }
  const preserve = asList(map.get('preserve') ?? null, `${path}.preserve`).map((item, i) =>
    asString(item, `${path}.preserve[${i}]`),
  );
  return { edition: edition === '' ? 0 : Number(edition), preserve };
}

function parseStructure(value: YamlValue, path: string): ParsedStructure {
  const map = asMap(value, path) ?? emptyMap;
  const field = (key: string) => asString(map.get(key), `${path}.${key}`);
  const offset = field('offset');
  const offsetWrite = field('offset-write');
  const size = field('size');
  const minSize = field('min-size');
  return {
    name: field('name'),
    label: field('filesystem-label'),
    type: field('type'),
    role: field('role'),
    id: field('id'),
    filesystem: field('filesystem'),
    size: size === '' ? 0 : unwrap(parseSize(size), `${path}.size`),
    minSize: minSize === '' ? 0 : unwrap(parseSize(minSize), `${path}.min-size`),
    offset: offset === '' ? undefined : unwrap(parseOffset(offset), `${path}.offset`),
    offsetWrite: offsetWrite === '' ? undefined : unwrap(parseRelativeOffset(offsetWrite), `${path}.offset-write`),
    content: asList(map.get('content') ?? null, `${path}.content`).map((c, i) => parseContent(c, `${path}.content[${i}]`)),
    update: parseUpdate(map.get('update'), `${path}.update`),
  };
}

function parseVolume(name: string, value: YamlValue): ParsedVolume {
  const path = `volumes.${name}`;
  const map = asMap(value, path);
  if (!map) throw new DecodeError(`volume "${name}" stanza is empty; describe its "structure" list or remove it`);
  return {
    name,
    schema: asString(map.get('schema'), `${path}.schema`),
    bootloader: asString(map.get('bootloader'), `${path}.bootloader`),
    id: asString(map.get('id'), `${path}.id`),
    partial: asList(map.get('partial') ?? null, `${path}.partial`).map((p, i) => asString(p, `${path}.partial[${i}]`)),
    structures: asList(map.get('structure') ?? null, `${path}.structure`).map((s, i) =>
      parseStructure(s, `${path}.structure[${i}]`),
    ),
  };
}

/** Decodes gadget.yaml text into typed fields; throws invalid-gadget naming the field on malformed input. */
export function parseGadgetYaml(text: string): ParsedGadget {
  try {
    let tree: YamlValue;
    try {
      tree = parseYamlTree(text);
    } catch (err) {
      throw new DecodeError((err as Error).message);
    }
    const top = asMap(tree, 'top level') ?? emptyMap;
    const volumes = asMap(top.get('volumes') ?? null, 'volumes') ?? emptyMap;
    return { volumes: [...volumes].map(([name, v]) => parseVolume(name, v)) };
  } catch (err) {
    if (err instanceof DecodeError) throw imageError('invalid-gadget', `cannot parse gadget metadata: ${err.message}`);
    throw err;
  }
}
