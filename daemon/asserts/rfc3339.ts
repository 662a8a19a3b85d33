// Go's time.Parse(time.RFC3339, s): what snapd accepts as a date header,
// including fractional seconds, and its error texts.

import { goQuote } from './goformat.js';

const layout = '2006-01-02T15:04:05Z07:00';

/** The result of parsing a date: the instant, or Go's error text. */
export type ParsedTime = { ok: true; date: Date } | { ok: false; error: string };

function isDigit(s: string, i: number): boolean {
  const c = s.charCodeAt(i);
  return c >= 48 && c <= 57;
}

function getnum(s: string, fixed: boolean): [number, string] | null {
  if (!isDigit(s, 0)) return null;
  if (!isDigit(s, 1)) {
    if (fixed) return null;
    return [Number(s[0]), s.slice(1)];
  }
  return [Number(s.slice(0, 2)), s.slice(2)];
}

function daysIn(month: number, year: number): number {
  if (month === 2) return (year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** Parses an RFC3339 date as Go's time.Parse(time.RFC3339, s) does. */
export function parseRFC3339(input: string): ParsedTime {
  const cannot = (valueElem: string, layoutElem: string): ParsedTime => ({
    ok: false,
    error: `parsing time ${goQuote(input)} as ${goQuote(layout)}: cannot parse ${goQuote(valueElem)} as ${goQuote(layoutElem)}`,
  });
  const outOfRange = (what: string): ParsedTime => ({
    ok: false,
    error: `parsing time ${goQuote(input)}: ${what} out of range`,
  });
  let v = input;
  const literal = (lit: string): boolean => {
    if (!v.startsWith(lit)) return false;
    v = v.slice(lit.length);
    return true;
  };

  if (v.length < 4 || ![0, 1, 2, 3].every((i) => isDigit(v, i))) return cannot(v, '2006');
  const year = Number(v.slice(0, 4));
  v = v.slice(4);
  if (!literal('-')) return cannot(v, '-');
  const mo = getnum(v, true);
  if (!mo) return cannot(v, '01');
  const month = mo[0];
  v = mo[1];
  if (month < 1 || month > 12) return outOfRange('month');
  if (!literal('-')) return cannot(v, '-');
  const dd = getnum(v, true);
  if (!dd) return cannot(v, '02');
  const day = dd[0];
  v = dd[1];
  if (!literal('T')) return cannot(v, 'T');
  const hh = getnum(v, false);
  if (!hh) return cannot(v, '15');
  const hour = hh[0];
  v = hh[1];
  if (hour > 23) return outOfRange('hour');
  if (!literal(':')) return cannot(v, ':');
  const mi = getnum(v, true);
  if (!mi) return cannot(v, '04');
  const minute = mi[0];
  v = mi[1];
  if (minute > 59) return outOfRange('minute');
  if (!literal(':')) return cannot(v, ':');
  const ss = getnum(v, true);
  if (!ss) return cannot(v, '05');
  const second = ss[0];
  v = ss[1];
  if (second > 59) return outOfRange('second');
  let millis = 0;
  if (v.length >= 2 && (v[0] === '.' || v[0] === ',') && isDigit(v, 1)) {
    let n = 2;
    while (n < v.length && isDigit(v, n)) n++;
    millis = Number(`0.${v.slice(1, n)}`) * 1000;
    millis = Math.floor(millis + 1e-6);
    v = v.slice(n);
  }
  let offsetMinutes = 0;
  if (v.startsWith('Z')) {
    v = v.slice(1);
  } else {
    if (v.length < 6 || v[3] !== ':') return cannot(v, 'Z07:00');
    const sign = v[0];
    const oh = getnum(v.slice(1, 3), true);
    const om = getnum(v.slice(4, 6), true);
    if (!oh || !om || (sign !== '+' && sign !== '-')) return cannot(v, 'Z07:00');
    if (oh[0] > 24) return outOfRange('time zone offset hour');
    if (om[0] > 60) return outOfRange('time zone offset minute');
    offsetMinutes = (oh[0] * 60 + om[0]) * (sign === '-' ? -1 : 1);
    v = v.slice(6);
  }
  if (v.length > 0) return { ok: false, error: `parsing time ${goQuote(input)}: extra text: ${goQuote(v)}` };
  if (day < 1 || day > daysIn(month, year)) return outOfRange('day');

  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, millis);
  return { ok: true, date: new Date(date.getTime() - offsetMinutes * 60_000) };
}

/** Formats an instant like Go's t.UTC().Format(time.RFC3339) (whole seconds, Z). */
export function formatRFC3339(time: Date): string {
  return time.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
