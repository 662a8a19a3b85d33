// Assertion header values: their type, their text form, and the parser for it.
// Follows snapd's asserts/headers.go format: one-line strings, 4-space indented
// multi-line strings, "  -" lists and "  key:" maps, nested by indentation.

import { compareBytes, goQuote, goValue } from './goformat.js';
import { invalid } from './errors.js';

/** A header value: a string, or nested lists and maps with strings as the only scalars. */
export type HeaderValue = string | HeaderList | HeaderMap;
/** A list header value. */
export type HeaderList = HeaderValue[];
/** A map header value. */
export interface HeaderMap {
  [key: string]: HeaderValue;
}
/** The headers of an assertion, by name. */
export type Headers = Record<string, HeaderValue>;

/** The rule for header names and map keys (snapd's headerNameValidity). */
export const headerNamePattern = /^[a-z](?:-?[a-z0-9])*$/;

const commonPrefix = '  ';
const multilinePrefix = '    ';
const listPrefix = '  -';

function nesting(baseIndent: number, prefix: string): string {
  return ' '.repeat(baseIndent) + prefix;
}

/** Checks that a value is a string or nested lists/maps of strings, with snapd's error text. */
export function checkHeaderValue(name: string, value: unknown): asserts value is HeaderValue {
  const bad = findBadScalar(value);
  if (bad.found) {
    throw invalid(
      `header ${goQuote(name)}: header values must be strings or nested lists or maps with strings as the only scalars: ${goValue(bad.value)}`,
    );
  }
}

function findBadScalar(v: unknown): { found: boolean; value?: unknown } {
  if (typeof v === 'string') return { found: false };
  if (Array.isArray(v)) {
    for (const x of v) {
      const r = findBadScalar(x);
      if (r.found) return r;
    }
    return { found: false };
  }
  if (v !== null && typeof v === 'object') {
    for (const x of Object.values(v as Record<string, unknown>)) {
      const r = findBadScalar(x);
      if (r.found) return r;
    }
    return { found: false };
  }
  return { found: true, value: v };
}

/** Checks header names and nested map keys so that the encoded text can be parsed back. */
export function checkHeaderNames(name: string, value: HeaderValue): void {
  if (!headerNamePattern.test(name)) throw invalid(`invalid header name: ${goQuote(name)}`);
  checkMapKeys(value);
}

function checkMapKeys(value: HeaderValue): void {
  if (typeof value === 'string') return;
  if (Array.isArray(value)) {
    value.forEach(checkMapKeys);
    return;
  }
  for (const [key, v] of Object.entries(value)) {
    if (!headerNamePattern.test(key)) throw invalid(`invalid map entry key: ${goQuote(key)}`);
    checkMapKeys(v);
  }
}

/** Appends one header entry in snapd's text form; empty lists and maps are omitted. */
export function appendEntry(out: string[], intro: string, value: HeaderValue, baseIndent: number): void {
  if (typeof value === 'string') {
    if (value.includes('\n')) {
      const pfx = nesting(baseIndent, multilinePrefix);
      out.push(`\n${intro}\n${pfx}${value.replaceAll('\n', `\n${pfx}`)}`);
    } else {
      out.push(`\n${intro} ${value}`);
    }
    return;
  }
  if (Array.isArray(value)) {
    if (value.length === 0) return;
    out.push(`\n${intro}`);
    const pfx = nesting(baseIndent, listPrefix);
    for (const item of value) appendEntry(out, pfx, item, baseIndent + listPrefix.length - 1);
    return;
  }
  const keys = Object.keys(value).sort(compareBytes);
  if (keys.length === 0) return;
  out.push(`\n${intro}`);
  const pfx = nesting(baseIndent, commonPrefix);
  for (const key of keys) appendEntry(out, `${pfx}${key}:`, value[key] as HeaderValue, pfx.length);
}

/** Parses the header block of an assertion (text before the first blank line). */
export function parseHeaders(head: string): Headers {
  const headers: Headers = {};
  const lines = head.split('\n');
  let i = 0;
  while (i < lines.length) {
    const entry = lines[i] as string;
    const split = entry.indexOf(':');
    if (split === -1) throw invalid(`header entry missing ':' separator: ${goQuote(entry)}`);
    const name = entry.slice(0, split);
    if (!headerNamePattern.test(name)) throw invalid(`invalid header name: ${goQuote(name)}`);
    const [value, next] = parseEntry(split + 1, i, lines, 0);
    if (Object.hasOwn(headers, name)) throw invalid(`repeated header: ${goQuote(name)}`);
    headers[name] = value;
    i = next;
  }
  return headers;
}

type Parsed = [HeaderValue, number];

function parseEntry(consumed: number, first: number, lines: string[], baseIndent: number): Parsed {
  const entry = lines[first] as string;
  const i = first + 1;
  if (consumed === entry.length) {
    const basePrefix = nesting(baseIndent, commonPrefix);
    const next = lines[i];
    if (next !== undefined && next.startsWith(basePrefix)) {
      const rest = next.slice(basePrefix.length);
      if (rest.startsWith('-')) return parseList(i, lines, baseIndent);
      if (rest.length > 0 && rest[0] !== ' ') return parseMap(i, lines, baseIndent);
    }
    return parseMultilineText(i, lines, baseIndent);
  }
  if (entry[consumed] !== ' ') {
    throw invalid(`header entry should have a space or newline (for multiline) before value: ${goQuote(entry)}`);
  }
  return [entry.slice(consumed + 1), i];
}

function parseMultilineText(first: number, lines: string[], baseIndent: number): Parsed {
  const prefix = nesting(baseIndent, multilinePrefix);
  let j = first;
  while (j < lines.length && (lines[j] as string).startsWith(prefix)) j++;
  if (j === first) {
    const cur = first === lines.length ? 'EOF' : goQuote(lines[first] as string);
    throw invalid(
      `expected ${prefix.length} chars nesting prefix after multiline introduction ${goQuote(lines[first - 1] as string)}: ${cur}`,
    );
  }
  const text = lines.slice(first, j).map((l) => l.slice(prefix.length)).join('\n');
  return [text, j];
}

function parseList(first: number, lines: string[], baseIndent: number): Parsed {
  const list: HeaderValue[] = [];
  const prefix = nesting(baseIndent, listPrefix);
  let j = first;
  while (j < lines.length && (lines[j] as string).startsWith(prefix)) {
    const [v, next] = parseEntry(prefix.length, j, lines, baseIndent + listPrefix.length - 1);
    list.push(v);
    j = next;
  }
  return [list, j];
}

function parseMap(first: number, lines: string[], baseIndent: number): Parsed {
  const map: HeaderMap = {};
  const prefix = nesting(baseIndent, commonPrefix);
  let j = first;
  while (j < lines.length && (lines[j] as string).startsWith(prefix)) {
    const entry = (lines[j] as string).slice(prefix.length);
    const split = entry.indexOf(':');
    if (split === -1) throw invalid(`map entry missing ':' separator: ${goQuote(entry)}`);
    const key = entry.slice(0, split);
    if (!headerNamePattern.test(key)) throw invalid(`invalid map entry key: ${goQuote(key)}`);
    const [value, next] = parseEntry(prefix.length + split + 1, j, lines, prefix.length);
    if (Object.hasOwn(map, key)) throw invalid(`repeated map entry: ${goQuote(key)}`);
    map[key] = value;
    j = next;
  }
  return [map, j];
}
