/**
 * Sizes and offsets as gadget.yaml writes them: plain bytes, or a whole number
 * of mebibytes (`M`) or gibibytes (`G`). Errors are plain strings so the caller
 * can prefix them with the field they came from, as snapd does.
 */

export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;

/** Result of parsing a quantity: the byte count, or why it is not one. */
export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

function parseQuantity(text: string, what: 'size' | 'offset'): Parsed<number> {
  let cut = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if ((c < '0' || c > '9') && c !== '-') {
      cut = i;
      break;
    }
  }
  if (cut === 0) return { ok: false, error: 'no numerical prefix' };
  const prefix = text.slice(0, cut);
  const unit = text.slice(cut);
  if (!/^-?[0-9]+$/.test(prefix)) return { ok: false, error: `"${prefix}" is not a number` };
  const number = Number(prefix);
  if (number < 0) return { ok: false, error: `${what} cannot be negative` };
  const scale = unit === 'M' ? MiB : unit === 'G' ? GiB : unit === '' ? 1 : 0;
  if (scale === 0) return { ok: false, error: `invalid suffix "${unit}"` };
  const value = number * scale;
  if (!Number.isSafeInteger(value)) return { ok: false, error: `${what} is too large` };
  return { ok: true, value };
}

/** Parses a gadget `size`/`min-size` value; wraps failures as snapd does ("cannot parse size ..."). */
export function parseSize(text: string): Parsed<number> {
  const r = parseQuantity(text, 'size');
  return r.ok ? r : { ok: false, error: `cannot parse size "${text}": ${r.error}` };
}

/** Parses a gadget `offset` value; wraps failures as snapd does ("cannot parse offset ..."). */
export function parseOffset(text: string): Parsed<number> {
  const r = parseQuantity(text, 'offset');
  return r.ok ? r : { ok: false, error: `cannot parse offset "${text}": ${r.error}` };
}

/** Where `offset-write` puts a structure's sector address: bytes from the start of a named structure, or absolute. */
export interface RelativeOffset {
  /** Structure name the offset counts from; '' when absolute. */
  relativeTo: string;
  offset: number;
}

/** Parses an `offset-write` value, `[NAME+]OFFSET`, with snapd's limits (below 4 GiB). */
export function parseRelativeOffset(text: string): Parsed<RelativeOffset> {
  const fail = (error: string): Parsed<RelativeOffset> => ({
    ok: false,
    error: `cannot parse relative offset "${text}": ${error}`,
  });
  let relativeTo = '';
  let spec = text;
  const plus = text.indexOf('+');
  if (plus !== -1) {
    relativeTo = text.slice(0, plus);
    spec = text.slice(plus + 1);
    if (relativeTo === '') return fail('missing volume name');
  }
  if (spec === '') return fail('missing offset');
  const offset = parseQuantity(spec, 'offset');
  if (!offset.ok) return fail(`cannot parse offset "${spec}": ${offset.error}`);
  if (offset.value > 4 * GiB) return fail('offset above 4G limit');
  return { ok: true, value: { relativeTo, offset: offset.value } };
}

/** Formats bytes in IEC units (1.50 MiB) for messages, the way snapd prints sizes. */
export function iecString(bytes: number): string {
  let r = bytes;
  let unit = 'B';
  for (const next of ['KiB', 'MiB', 'GiB', 'TiB', 'PiB']) {
    if (r < 1023.5) break;
    r /= 1024;
    unit = next;
  }
  const text = Number.isInteger(r) ? String(r) : r.toFixed(2);
  return `${text} ${unit}`;
}

/** Rounds `value` up to a multiple of `unit`. */
export function alignUp(value: number, unit: number): number {
  return Math.ceil(value / unit) * unit;
}
