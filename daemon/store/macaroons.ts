// Macaroons as the store and its clients use them, on top of the `macaroon`
// library (juju's js-macaroon, the JavaScript twin of the go-macaroon snapd
// uses) for the cryptography: caveats, discharge binding and verification.
// js-macaroon has no version-1 *binary* format, which is what snapd
// (gopkg.in/macaroon.v1 MarshalBinary, base64url: auth.MacaroonSerialize) and
// the real store exchange, so the small packet codec for it is here: each
// packet is 4 hex digits of total length, "KEY VALUE", "\n".
import macaroonLib, { type Macaroon } from 'macaroon';

export type { Macaroon };

function packet(key: string, value: Uint8Array | string): Buffer {
  const v = typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value);
  const size = 4 + key.length + 1 + v.length + 1;
  if (size > 0xffff) throw new Error(`macaroon field ${key} is too long`);
  return Buffer.concat([Buffer.from(`${size.toString(16).padStart(4, '0')}${key} `), v, Buffer.from('\n')]);
}

/** Encodes a macaroon in the version-1 binary format (go-macaroon v1 MarshalBinary). */
export function encodeMacaroonV1(m: Macaroon): Buffer {
  const parts = [packet('location', m.location ?? ''), packet('identifier', m.identifier)];
  for (const c of m.caveats) {
    parts.push(packet('cid', c.identifier));
    if (c.vid !== undefined) {
      parts.push(packet('vid', c.vid));
      parts.push(packet('cl', c.location ?? ''));
    }
  }
  parts.push(packet('signature', m.signature));
  return Buffer.concat(parts);
}

/** Decodes the version-1 binary format; throws on malformed input. */
export function decodeMacaroonV1(bytes: Buffer): Macaroon {
  const fields: [string, Buffer][] = [];
  for (let pos = 0; pos < bytes.length; ) {
    const size = parseInt(bytes.subarray(pos, pos + 4).toString('latin1'), 16);
    if (!(size > 5) || pos + size > bytes.length || bytes[pos + size - 1] !== 0x0a) throw new Error('malformed macaroon packet');
    const body = bytes.subarray(pos + 4, pos + size - 1);
    const sp = body.indexOf(0x20);
    if (sp < 0) throw new Error('malformed macaroon packet');
    fields.push([body.subarray(0, sp).toString('latin1'), body.subarray(sp + 1)]);
    pos += size;
  }
  const take = (key: string) => {
    const f = fields.shift();
    if (!f || f[0] !== key) throw new Error(`macaroon: expected field ${key}, got ${f?.[0] ?? 'end'}`);
    return f[1];
  };
  const location = take('location').toString('utf8');
  const identifier = take('identifier').toString('utf8');
  const caveats: { cid: string; vid?: string; cl?: string }[] = [];
  const next = (): string | undefined => fields[0]?.[0];
  while (next() === 'cid') {
    const cav: { cid: string; vid?: string; cl?: string } = { cid: take('cid').toString('utf8') };
    if (next() === 'vid') {
      cav.vid = take('vid').toString('base64');
      if (next() === 'cl') cav.cl = take('cl').toString('utf8');
    }
    caveats.push(cav);
  }
  const signature = take('signature');
  if (fields.length > 0) throw new Error('macaroon: unexpected data after the signature');
  return macaroonLib.importMacaroon({ location, identifier, caveats, signature: signature.toString('hex') });
}

/** Serializes a macaroon as snapd does: v1 binary, base64url without padding. */
export function serializeMacaroon(m: Macaroon): string {
  return encodeMacaroonV1(m).toString('base64url');
}

/** Parses a serialized macaroon (base64url or base64 of v1 or v2 binary); throws on garbage. */
export function deserializeMacaroon(text: string): Macaroon {
  const bytes = Buffer.from(text.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, ''), 'base64url');
  if (bytes.length === 0) throw new Error('empty macaroon');
  if (/^[0-9a-fA-F]$/.test(String.fromCharCode(bytes[0]!))) return decodeMacaroonV1(bytes);
  return macaroonLib.importMacaroon(new Uint8Array(bytes));
}

/** A new v1 macaroon. */
export function newMacaroon(rootKey: Uint8Array, identifier: string, location: string): Macaroon {
  return macaroonLib.newMacaroon({ rootKey, identifier, location, version: 1 });
}

/** The caveat id of a root macaroon's third-party caveat for `location` (the SSO), as text. */
export function thirdPartyCaveatId(root: Macaroon, location?: string): string | undefined {
  const cav = root.caveats.find((c) => c.vid !== undefined && (location === undefined || c.location === location));
  return cav ? Buffer.from(cav.identifier).toString('utf8') : undefined;
}

/** The Authorization header value for a root macaroon and its discharge (bound here, as snapd's MacaroonBind). */
export function authorizationHeader(root: string, discharge: string): string {
  const r = deserializeMacaroon(root);
  const d = deserializeMacaroon(discharge);
  d.bindToRoot(r.signature);
  return `Macaroon root="${root}", discharge="${serializeMacaroon(d)}"`;
}

/** Splits an `Authorization: Macaroon root="...", discharge="..."` header; undefined when it is not one. */
export function parseAuthorization(header: string | undefined): { root: string; discharges: string[] } | undefined {
  if (!header || !/^Macaroon\s/i.test(header)) return undefined;
  let root: string | undefined;
  const discharges: string[] = [];
  for (const m of header.slice(8).matchAll(/(\w+)="([^"]*)"/g)) {
    if (m[1] === 'root') root = m[2];
    else if (m[1] === 'discharge') discharges.push(m[2]!);
  }
  return root === undefined ? undefined : { root, discharges };
}
