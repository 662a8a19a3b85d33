/** Pure IPv4/IPv6 address parsing for the network screen. */

/** The 32-bit value of a dotted IPv4 address, or undefined. */
export function parseIPv4(s: string): number | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  let v = 0;
  for (const p of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p) || Number(p) > 255) return undefined;
    v = v * 256 + Number(p);
  }
  return v;
}

/** True for a textual IPv6 address (no zone, no embedded IPv4). */
export function isIPv6(s: string): boolean {
  if (!/^[0-9a-fA-F:]+$/.test(s) || s.includes(':::')) return false;
  const halves = s.split('::');
  if (halves.length > 2) return false;
  const groups = (h: string) => (h === '' ? [] : h.split(':'));
  const all = halves.flatMap(groups);
  if (!all.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) return false;
  return halves.length === 2 ? all.length <= 7 : all.length === 8;
}

/** 4 or 6 for an IP address, 0 otherwise. */
export function ipFamily(s: string): 0 | 4 | 6 {
  if (parseIPv4(s) !== undefined) return 4;
  if (isIPv6(s)) return 6;
  return 0;
}
