// Shared header checks, the building blocks of every type's rules, with
// snapd's error texts (asserts/header_checks.go).

import { goQuote } from './goformat.js';
import { invalid } from './errors.js';
import type { HeaderMap, HeaderValue } from './headers.js';
import { parseRFC3339 } from './rfc3339.js';

type M = Readonly<HeaderMap>;

/** Returns a mandatory string entry (possibly empty). */
export function checkExistsString(m: M, name: string, what = 'header'): string {
  const v = m[name];
  if (v === undefined) throw invalid(`${goQuote(name)} ${what} is mandatory`);
  if (typeof v !== 'string') throw invalid(`${goQuote(name)} ${what} must be a string`);
  return v;
}

/** Returns a mandatory, non-empty string entry. */
export function checkNotEmptyString(m: M, name: string, what = 'header'): string {
  const s = checkExistsString(m, name, what);
  if (s.length === 0) throw invalid(`${goQuote(name)} ${what} should not be empty`);
  return s;
}

/** Returns an optional string entry, '' when absent. */
export function checkOptionalString(m: M, name: string, what = 'header'): string {
  const v = m[name];
  if (v === undefined) return '';
  if (typeof v !== 'string') throw invalid(`${goQuote(name)} ${what} must be a string`);
  return v;
}

/** Returns a primary key header: non-empty and without '/'. */
export function checkPrimaryKey(m: M, name: string): string {
  const s = checkNotEmptyString(m, name);
  if (s.includes('/')) throw invalid(`${goQuote(name)} primary key header cannot contain '/'`);
  return s;
}

const maxInt = 2 ** 63 - 1;

/** Parses a decimal integer as snapd's atoi does, rejecting leading zeros. */
export function atoi(s: string, which: string): number {
  if (!/^[+-]?[0-9]+$/.test(s)) throw invalid(`${which} is not an integer: ${s}`);
  const n = Number(s);
  if (!Number.isSafeInteger(n) && Math.abs(n) > maxInt) throw invalid(`${which} is out of range: ${s}`);
  if (s.startsWith('0') && s !== '0') throw invalid(`${which} has invalid prefix zeros: ${s}`);
  return n;
}

/** Returns an optional integer header, or the default when absent. */
export function checkIntWithDefault(m: M, name: string, defl: number): number {
  const v = m[name];
  if (v === undefined) return defl;
  if (typeof v !== 'string') throw invalid(`${goQuote(name)} header is not an integer: ${renderValue(v)}`);
  return atoi(v, `${goQuote(name)} header`);
}

/** Returns a mandatory integer entry. */
export function checkInt(m: M, name: string, what = 'header'): number {
  return atoi(checkNotEmptyString(m, name, what), `${goQuote(name)} ${what}`);
}

/** Returns a mandatory unsigned integer entry. */
export function checkUint(m: M, name: string, what = 'header'): number {
  const s = checkNotEmptyString(m, name, what);
  if (!/^[0-9]+$/.test(s)) throw invalid(`${goQuote(name)} ${what} is not an unsigned integer: ${s}`);
  if (Number(s) > 2 ** 64 - 1) throw invalid(`${goQuote(name)} ${what} is out of range: ${s}`);
  if (s.startsWith('0') && s !== '0') throw invalid(`${goQuote(name)} ${what} has invalid prefix zeros: ${s}`);
  return Number(s);
}

/**
 * The error for a date that does not parse: snapd's prefix (what users search
 * for), then the value, what is wrong with it in words rather than Go's
 * layout string, and the form to write, with an example.
 */
function notADate(name: string, what: string, value: string, goError: string): never {
  const range = / (month|day|hour|minute|second|time zone offset hour|time zone offset minute) out of range$/.exec(goError);
  const problem = range ? `has its ${range[1]} out of range` : 'is not a date and time of the form YYYY-MM-DDTHH:MM:SS followed by Z or an offset';
  const now = name === 'timestamp' ? ' ("coreforge sign --update-timestamp" sets it to now)' : '';
  throw invalid(`${goQuote(name)} ${what} is not a RFC3339 date: ${goQuote(value)} ${problem}; write it like 2026-12-06T10:00:00+00:00, or 2026-12-06T10:00:00Z in UTC${now}`);
}

/** Returns a mandatory RFC3339 date entry. */
export function checkRFC3339Date(m: M, name: string, what = 'header'): Date {
  const s = checkNotEmptyString(m, name, what);
  const parsed = parseRFC3339(s);
  if (!parsed.ok) notADate(name, what, s, parsed.error);
  return parsed.date;
}

/** Returns an optional RFC3339 date entry, null when absent. */
export function checkOptionalRFC3339Date(m: M, name: string, what = 'header'): Date | null {
  const v = m[name];
  if (v === undefined) return null;
  if (typeof v !== 'string') throw invalid(`${goQuote(name)} ${what} must be a string`);
  const parsed = parseRFC3339(v);
  if (!parsed.ok) notADate(name, what, v, parsed.error);
  return parsed.date;
}

const base64url = /^[A-Za-z0-9_-]*$/;

/** Checks a base64url (unpadded) SHA3-384 digest header. */
export function checkDigest(m: M, name: string, what = 'header'): string {
  const s = checkNotEmptyString(m, name, what);
  if (!base64url.test(s) || s.length % 4 === 1) {
    throw invalid(`${goQuote(name)} ${what} cannot be decoded: illegal base64 data at input byte ${firstBadBase64url(s)}`);
  }
  const bits = Math.floor((s.length * 6) / 8) * 8;
  if (bits !== 384) throw invalid(`${goQuote(name)} ${what} does not have the expected bit length: ${bits}`);
  return s;
}

function firstBadBase64url(s: string): number {
  for (let i = 0; i < s.length; i++) if (!base64url.test(s[i] as string)) return i;
  return s.length - 1;
}

/** Returns an optional list of strings (matching pattern if given), [] when absent. */
export function checkStringListInMap(m: M, name: string, what: string, pattern?: RegExp): string[] {
  const v = m[name];
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw invalid(`${what} must be a list of strings`);
  const out: string[] = [];
  for (const x of v) {
    if (typeof x !== 'string') throw invalid(`${what} must be a list of strings`);
    if (pattern && !pattern.test(x)) throw invalid(`${what} contains an invalid element: ${goQuote(x)}`);
    out.push(x);
  }
  return out;
}

/** Returns an optional header list of strings. */
export function checkStringList(m: M, name: string, pattern?: RegExp): string[] {
  return checkStringListInMap(m, name, `${goQuote(name)} header`, pattern);
}

/**
 * Returns a mandatory string entry matching pattern. `rule`, when given, says
 * in words what the pattern allows; it follows snapd's message, so searches
 * for that still find it.
 */
export function checkStringMatches(m: M, name: string, pattern: RegExp, what = 'header', rule?: string): string {
  const s = checkNotEmptyString(m, name, what);
  if (!pattern.test(s)) throw invalid(`${goQuote(name)} ${what} contains invalid characters: ${goQuote(s)}${rule ? `; ${rule}` : ''}`);
  return s;
}

/** Returns an optional 'true'/'false' entry, false when absent. */
export function checkOptionalBool(m: M, name: string, what = 'header'): boolean {
  const v = m[name];
  if (v === undefined) return false;
  if (v !== 'true' && v !== 'false') throw invalid(`${goQuote(name)} ${what} must be 'true' or 'false'`);
  return v === 'true';
}

/** Returns an optional map entry, null when absent. */
export function checkMap(m: M, name: string, what = 'header'): HeaderMap | null {
  const v = m[name];
  if (v === undefined) return null;
  if (typeof v === 'string' || Array.isArray(v)) throw invalid(`${goQuote(name)} ${what} must be a map`);
  return v;
}

/** Returns an optional list entry, null when absent. */
export function checkList(m: M, name: string, what = 'header'): HeaderValue[] | null {
  const v = m[name];
  if (v === undefined) return null;
  if (!Array.isArray(v)) throw invalid(`${goQuote(name)} ${what} must be a list`);
  return v;
}

/** Renders a header value like Go's %v does for []interface{} and map[string]interface{}. */
export function renderValue(v: HeaderValue): string {
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return `[${v.map(renderValue).join(' ')}]`;
  const keys = Object.keys(v).sort();
  return `map[${keys.map((k) => `${k}:${renderValue(v[k] as HeaderValue)}`).join(' ')}]`;
}
