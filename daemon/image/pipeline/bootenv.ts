import { imageError } from '../errors.js';
import { crc32 } from '../partition/crc32.js';

/**
 * Bootloader environments the way snapd writes them (bootloader/grubenv,
 * bootloader/ubootenv): a 1 KiB grubenv block, and a U-Boot environment
 * image with a CRC32 header, keys sorted, an empty value deleting the key. Pure.
 */

const grubEnvSize = 1024;
const grubHeader = '# GRUB Environment Block\n';

/** Encodes a grubenv block: header, `key=value` lines in the given order, padded with `#` to 1024 bytes. */
export function encodeGrubEnv(vars: ReadonlyArray<[string, string]>): Uint8Array {
  const text = grubHeader + vars.map(([k, v]) => `${k}=${v}\n`).join('');
  const body = new TextEncoder().encode(text);
  if (body.length > grubEnvSize) {
    throw imageError('invalid-gadget-content', `cannot write grubenv: ${body.length} bytes of variables do not fit in ${grubEnvSize}`);
  }
  const out = new Uint8Array(grubEnvSize).fill(0x23);
  out.set(body);
  return out;
}

/** Parses a grubenv block into its variables, in order. */
export function decodeGrubEnv(bytes: Uint8Array): Array<[string, string]> {
  const text = new TextDecoder().decode(bytes);
  const out: Array<[string, string]> = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq > 0) out.push([line.slice(0, eq), line.slice(eq + 1)]);
  }
  return out;
}

interface UbootEnv {
  headerSize: 4 | 5;
  flags: number;
  vars: Map<string, string>;
}

function readU32LE(b: Uint8Array, at: number): number {
  return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
}

/** Parses a U-Boot environment image (plain or redundant header); throws when its CRC does not match. */
export function decodeUbootEnv(bytes: Uint8Array, source: string): UbootEnv {
  for (const headerSize of [5, 4] as const) {
    if (bytes.length <= headerSize) break;
    const data = bytes.subarray(headerSize);
    if (crc32(data) !== readU32LE(bytes, 0)) continue;
    const vars = new Map<string, string>();
    let start = 0;
    while (start < data.length && data[start] !== 0) {
      let end = start;
      while (end < data.length && data[end] !== 0) end++;
      const entry = new TextDecoder().decode(data.subarray(start, end));
      const eq = entry.indexOf('=');
      if (eq > 0) vars.set(entry.slice(0, eq), entry.slice(eq + 1));
      start = end + 1;
    }
    return { headerSize, flags: headerSize === 5 ? bytes[4]! : 0, vars };
  }
  throw imageError('invalid-gadget-content', `cannot read u-boot environment ${source}: its CRC32 does not match its contents; ship a valid uboot.env (mkenvimage) in the gadget`);
}

/** Rewrites a U-Boot environment image with `set` applied (empty value deletes), keeping its size and header. */
export function updateUbootEnv(bytes: Uint8Array, set: Readonly<Record<string, string>>, source: string): Uint8Array {
  const env = decodeUbootEnv(bytes, source);
  for (const [k, v] of Object.entries(set)) {
    if (v === '') env.vars.delete(k);
    else env.vars.set(k, v);
  }
  const keys = [...env.vars.keys()].sort();
  const body = new TextEncoder().encode(keys.map((k) => `${k}=${env.vars.get(k)}\0`).join('') + '\0');
  const dataSize = bytes.length - env.headerSize;
  if (body.length > dataSize) {
    throw imageError('invalid-gadget-content', `cannot write u-boot environment ${source}: ${body.length} bytes of variables do not fit in ${dataSize}`);
  }
  const out = new Uint8Array(bytes.length);
  out.set(body, env.headerSize);
  const crc = crc32(out.subarray(env.headerSize));
  out[0] = crc & 0xff;
  out[1] = (crc >>> 8) & 0xff;
  out[2] = (crc >>> 16) & 0xff;
  out[3] = (crc >>> 24) & 0xff;
  if (env.headerSize === 5) out[4] = env.flags;
  return out;
}

/** The variables of a U-Boot environment image, sorted by name. */
export function ubootEnvVars(bytes: Uint8Array, source: string): Record<string, string> {
  return Object.fromEntries([...decodeUbootEnv(bytes, source).vars.entries()].sort(([a], [b]) => a.localeCompare(b)));
}
