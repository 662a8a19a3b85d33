/** A half-open byte range [start, end) of an image or a drive. */
export interface ByteRange {
  start: number;
  end: number;
}

/** A byte range with the hash (hex) its bytes must have: SHA-256, or SHA-1 for bmap 1.x files. */
export interface RangeDigest extends ByteRange {
  algorithm: 'sha256' | 'sha1';
  digest: string;
}

/** The human form of a range used in every message: "bytes 4096-8191" (inclusive, as dd and bmaptool count). */
export function formatRange(range: ByteRange): string {
  return `bytes ${range.start}-${range.end - 1}`;
}

/** Total number of bytes in a list of ranges. */
export function rangesBytes(ranges: readonly ByteRange[]): number {
  let total = 0;
  for (const r of ranges) total += r.end - r.start;
  return total;
}

/** Joins overlapping or touching ranges after sorting; keeps messages short and exact. */
export function mergeRanges(ranges: readonly ByteRange[]): ByteRange[] {
  const sorted = [...ranges].sort((a, b) => a.start - b.start);
  const out: ByteRange[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r.start <= last.end) last.end = Math.max(last.end, r.end);
    else out.push({ start: r.start, end: r.end });
  }
  return out;
}

/** Cuts ranges at every multiple of `size`, so each piece can be hashed and reported on its own. */
export function splitRanges(ranges: readonly ByteRange[], size: number): ByteRange[] {
  const out: ByteRange[] = [];
  for (const r of ranges) {
    let start = r.start;
    while (start < r.end) {
      const end = Math.min(r.end, (Math.floor(start / size) + 1) * size);
      out.push({ start, end });
      start = end;
    }
  }
  return out;
}

/** Ranges clipped to [0, limit): what of a plan lies inside an image or a drive. */
export function clipRanges(ranges: readonly ByteRange[], limit: number): ByteRange[] {
  return ranges.filter((r) => r.start < limit).map((r) => ({ start: r.start, end: Math.min(r.end, limit) }));
}
