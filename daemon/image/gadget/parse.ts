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
  /** True for a stanza with nothing under it (`pc:`), which snapd refuses after decoding. */
  empty: boolean;
  schema: string;
  bootloader: string;
  id: string;
  partial: string[];
  structures: ParsedStructure[];
}

/** One side of a `connections:` entry, `(<snap-id>|system):name`; both parts '' when not given. */
export interface ParsedConnectionEnd {
  snapId: string;
  name: string;
}

export interface ParsedConnection {
  plug: ParsedConnectionEnd;
  slot: ParsedConnectionEnd;
}

/** One `volume-assignments:` variant: volume names mapped to device paths, in file order. */
export interface ParsedAssignment {
  name: string;
  assignments: { volume: string; device: string }[];
}

export interface ParsedGadget {
  /** Keys of the `defaults:` mapping, in file order. */
  defaults: string[];
  connections: ParsedConnection[];
  /** Empty when the file has no `volumes:` key or leaves it empty. */
  volumes: ParsedVolume[];
  volumeAssignments: ParsedAssignment[];
}

type YamlMap = Map<string, YamlValue>;
const emptyMap: YamlMap = new Map();

/** A decoding failure at a path such as `volumes.pc.structure[1].size`. */
class DecodeError extends Error {}

function fail(path: string, problem: string): never {
  throw new DecodeError(`${path}: ${problem}`);
}

/** A failure snapd reports with its own text: that text first, so a search finds it, then where it is. */
function failAt(path: string, snapdText: string): never {
  throw new DecodeError(`${snapdText} (at ${path})`);
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
  if (!parsed.ok) failAt(path, parsed.error);
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
    failAt(`${path}.edition`, `"edition" must be a positive number, not "${edition}"`);
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
  const map = asMap(value, path) ?? emptyMap;
  return {
    name,
    empty: value === null,
    schema: asString(map.get('schema'), `${path}.schema`),
    bootloader: asString(map.get('bootloader'), `${path}.bootloader`),
    id: asString(map.get('id'), `${path}.id`),
    partial: asList(map.get('partial') ?? null, `${path}.partial`).map((p, i) => asString(p, `${path}.partial[${i}]`)),
    structures: asList(map.get('structure') ?? null, `${path}.structure`).map((s, i) =>
      parseStructure(s, `${path}.structure[${i}]`),
    ),
  };
}

/** Parses `(<snap-id>|system):name` as snapd does: exactly one colon, neither side empty. */
function parseConnectionEnd(value: YamlValue | undefined, path: string, side: 'plug' | 'slot'): ParsedConnectionEnd {
  if (value === undefined || value === null) return { snapId: '', name: '' };
  const text = asString(value, path);
  const parts = text.split(':');
  if (parts.length !== 2 || parts[0] === '' || parts[1] === '') {
    failAt(path, `in gadget connection ${side}: expected "(<snap-id>|system):name" not "${text}"`);
  }
  return { snapId: parts[0]!, name: parts[1]! };
}

function parseConnections(value: YamlValue): ParsedConnection[] {
  return asList(value, 'connections').map((item, i) => {
    const path = `connections[${i}]`;
    const map = asMap(item, path) ?? emptyMap;
    return {
      plug: parseConnectionEnd(map.get('plug'), `${path}.plug`, 'plug'),
      slot: parseConnectionEnd(map.get('slot'), `${path}.slot`, 'slot'),
    };
  });
}

function parseDefaults(value: YamlValue): string[] {
  const map = asMap(value, 'defaults') ?? emptyMap;
  for (const [key, v] of map) asMap(v, `defaults.${key}`);
  return [...map.keys()];
}

function parseAssignments(value: YamlValue): ParsedAssignment[] {
  return asList(value, 'volume-assignments').map((item, i) => {
    const path = `volume-assignments[${i}]`;
    const map = asMap(item, path) ?? emptyMap;
    const assignment = asMap(map.get('assignment') ?? null, `${path}.assignment`) ?? emptyMap;
    return {
      name: asString(map.get('assignment-name'), `${path}.assignment-name`),
      assignments: [...assignment].map(([volume, v]) => {
        const device = asMap(v, `${path}.assignment.${volume}`) ?? emptyMap;
        return { volume, device: asString(device.get('device'), `${path}.assignment.${volume}.device`) };
      }),
    };
  });
}

/**
 * Decodes gadget.yaml text into typed fields, top-level keys in file order as
 * yaml.v2 meets them; throws invalid-gadget naming the field on malformed input.
 */
export function parseGadgetYaml(text: string): ParsedGadget {
  try {
    let tree: YamlValue;
    try {
      tree = parseYamlTree(text);
    } catch (err) {
      throw new DecodeError((err as Error).message);
    }
    const top = asMap(tree, 'top level') ?? emptyMap;
    const out: ParsedGadget = { defaults: [], connections: [], volumes: [], volumeAssignments: [] };
    for (const [key, value] of top) {
      if (key === 'volumes') {
        const volumes = asMap(value, 'volumes') ?? emptyMap;
        out.volumes = [...volumes].map(([name, v]) => parseVolume(name, v));
      } else if (key === 'defaults') out.defaults = parseDefaults(value);
      else if (key === 'connections') out.connections = parseConnections(value);
      else if (key === 'volume-assignments') out.volumeAssignments = parseAssignments(value);
    }
    return out;
  } catch (err) {
    if (err instanceof DecodeError) throw imageError('invalid-gadget', `cannot parse gadget metadata: ${err.message}`);
    throw err;
  }
}
