/** The --config file: JSON or YAML with a closed set of keys. */
import { DEFAULT_SSO_URL } from '../common/sso-keys.js';
import { ccError } from './errors.js';
import { parseBoundedYaml } from './yaml-input.js';

export { firstLine } from './yaml-input.js';

export type Backend = 'snapd' | 'direct';

export interface ConsoleConfConfig {
  ssoUrl: string;
  /** undefined: snapd when its socket exists, else direct */
  backend?: Backend;
  /** argv of the command that applies netplan */
  netplanApply: string[];
  githubUrl: string;
  launchpadUrl: string;
}

const KEYS = ['sso-url', 'backend', 'netplan-apply', 'github-url', 'launchpad-url'] as const;

/** Defaults used when no config file is given. */
export function defaultConfig(): ConsoleConfConfig {
  return {
    ssoUrl: DEFAULT_SSO_URL,
    netplanApply: ['netplan', 'apply'],
    githubUrl: 'https://api.github.com',
    launchpadUrl: 'https://launchpad.net',
  };
}

/** Parses the text of a config file named `source` (JSON is YAML, so one parser serves both), within LIMITS. */
export function parseConfig(text: string, source: string): ConsoleConfConfig {
  const fail = (why: string, fix: string) => ccError('invalid-config', `cannot use config ${source}: ${why}; ${fix}`);
  let v = text.trim() === '' ? {} : parseBoundedYaml(text, fail, 'JSON or YAML');
  if (v === null || v === undefined) v = {};
  if (typeof v !== 'object' || Array.isArray(v)) throw fail('it is not a mapping', `write a mapping with keys ${KEYS.join(', ')}`);
  const o = v as Record<string, unknown>;
  const unknown = Object.keys(o).filter((k) => !(KEYS as readonly string[]).includes(k));
  if (unknown.length > 0) {
    throw fail(`unknown key${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `"${k}"`).join(', ')}`, `use only ${KEYS.join(', ')}`);
  }
  const cfg = defaultConfig();
  const url = (key: string): string | undefined => {
    const val = o[key];
    if (val === undefined) return undefined;
    if (typeof val !== 'string' || !/^https?:\/\/[^\s/]+/.test(val)) {
      throw fail(`"${key}" must be an http or https URL`, `write e.g. ${key}: https://host`);
    }
    return val.replace(/\/+$/, '');
  };
  cfg.ssoUrl = url('sso-url') ?? cfg.ssoUrl;
  cfg.githubUrl = url('github-url') ?? cfg.githubUrl;
  cfg.launchpadUrl = url('launchpad-url') ?? cfg.launchpadUrl;
  if (o.backend !== undefined) {
    if (o.backend !== 'snapd' && o.backend !== 'direct') throw fail('"backend" must be "snapd" or "direct"', 'pick one of them');
    cfg.backend = o.backend;
  }
  const apply = o['netplan-apply'];
  if (apply !== undefined) {
    if (typeof apply === 'string' && apply.trim() !== '') cfg.netplanApply = apply.trim().split(/\s+/);
    else if (Array.isArray(apply) && apply.length > 0 && apply.every((a) => typeof a === 'string')) cfg.netplanApply = apply as string[];
    else throw fail('"netplan-apply" must be a command line or a list of arguments', 'write e.g. netplan-apply: netplan apply');
  }
  return cfg;
}
