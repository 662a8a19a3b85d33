// Text <-> bytes without node's Buffer, for the pure codec files.

const utf8Decoder = new TextDecoder('utf-8', { fatal: true });
const utf8Encoder = new TextEncoder();

/** UTF-8 bytes of a string. */
export function utf8Bytes(s: string): Uint8Array {
  return utf8Encoder.encode(s);
}

/** The string of UTF-8 bytes; throws on invalid UTF-8. */
export function utf8Text(b: Uint8Array): string {
  return utf8Decoder.decode(b);
}

/** True when bytes are valid UTF-8. */
export function isUTF8(b: Uint8Array): boolean {
  try {
    utf8Decoder.decode(b);
    return true;
  } catch {
    return false;
  }
}

/** One char per byte (for ASCII texts such as base64 blocks). */
export function latin1Text(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i += 8192) s += String.fromCharCode(...b.subarray(i, i + 8192));
  return s;
}
