/**
 * The headless first-boot file. `coreforge build --first-boot FILE` puts it at
 * var/lib/console-conf/first-boot.yaml in UC16/18 images and at
 * coreforge/first-boot.yaml on ubuntu-seed in UC20+ ones (seen on the device
 * as /var/lib/snapd/seed/... or /run/mnt/ubuntu-seed/...): FIRST_BOOT_PATHS.
 */
import { ccError } from './errors.js';
import { parseIdentity, type IdentitySpec } from './identity-spec.js';
import { checkUsername } from './username.js';
import { parseBoundedYaml } from './yaml-input.js';

export interface FirstBoot {
  identity: IdentitySpec;
  username?: string;
  /** netplan fragment: the content under `network:` */
  network?: Record<string, unknown>;
  ssoUrl?: string;
}

const TOP = ['identity', 'network', 'sso-url'];
const IDENTITY = ['email', 'keys-from', 'username'];

/** Parses and checks the first-boot file text, within LIMITS. */
export function parseFirstBoot(text: string, source: string): FirstBoot {
  const fail = (why: string, fix: string) => ccError('invalid-first-boot', `cannot use first-boot file ${source}: ${why}; ${fix}`);
  const v = parseBoundedYaml(text, fail);
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw fail('it is not a mapping', 'start it with "identity:"');
  const o = v as Record<string, unknown>;
  const unknown = Object.keys(o).filter((k) => !TOP.includes(k));
  if (unknown.length) throw fail(`unknown key ${unknown.map((k) => `"${k}"`).join(', ')}`, `use only ${TOP.join(', ')}`);
  const id = o.identity;
  if (typeof id !== 'object' || id === null || Array.isArray(id)) {
    throw fail('"identity" is missing or not a mapping', 'write identity: {email: ...} or identity: {keys-from: gh:USER}');
  }
  const ido = id as Record<string, unknown>;
  const badId = Object.keys(ido).filter((k) => !IDENTITY.includes(k));
  if (badId.length) throw fail(`unknown key ${badId.map((k) => `"identity.${k}"`).join(', ')}`, `use only ${IDENTITY.join(', ')}`);
  const hasEmail = ido.email !== undefined;
  const hasFrom = ido['keys-from'] !== undefined;
  if (hasEmail === hasFrom) throw fail('"identity" needs exactly one of "email" and "keys-from"', 'keep one of them');
  const raw = hasEmail ? ido.email : ido['keys-from'];
  if (typeof raw !== 'string') throw fail(`"identity.${hasEmail ? 'email' : 'keys-from'}" is not a string`, 'quote the value');
  let identity: IdentitySpec;
  try {
    identity = parseIdentity(raw);
  } catch (err) {
    throw fail((err as Error).message.replace(/^cannot use /, 'identity '), 'fix the identity');
  }
  if (hasEmail !== (identity.source === 'store')) {
    throw fail(hasEmail ? '"identity.email" is not an email' : '"identity.keys-from" must be gh:USER or lp:USER', 'fix the identity');
  }
  const out: FirstBoot = { identity };
  if (ido.username !== undefined) {
    if (typeof ido.username !== 'string') throw fail('"identity.username" is not a string', 'quote the value');
    try {
      out.username = checkUsername(ido.username);
    } catch (err) {
      throw fail((err as Error).message, 'fix "identity.username"');
    }
  }
  if (o.network !== undefined) {
    const n = o.network;
    if (typeof n !== 'object' || n === null || Array.isArray(n)) throw fail('"network" is not a mapping', 'write a netplan "network:" mapping');
    const frag = (n as Record<string, unknown>).network ?? n;
    if (typeof frag !== 'object' || frag === null || Array.isArray(frag)) throw fail('"network.network" is not a mapping', 'write a netplan mapping');
    out.network = frag as Record<string, unknown>;
  }
  if (o['sso-url'] !== undefined) {
    if (typeof o['sso-url'] !== 'string' || !/^https?:\/\/[^\s/]+/.test(o['sso-url'])) throw fail('"sso-url" is not an http or https URL', 'write e.g. sso-url: https://login.ubuntu.com');
    out.ssoUrl = o['sso-url'].replace(/\/+$/, '');
  }
  return out;
}
