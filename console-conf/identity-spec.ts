/** What the owner types (or the first-boot file says) to name where the keys come from. */
import { ccError } from './errors.js';

export type IdentitySpec =
  | { source: 'store'; email: string }
  | { source: 'github'; user: string }
  | { source: 'launchpad'; user: string };

const EMAIL = /^[^\s@:,/]+@[^\s@:,/]+\.[^\s@:,/]+$/;
const GH_USER = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/;
const LP_USER = /^[a-z0-9][a-z0-9+.-]{0,63}$/;

/** Parses "EMAIL", "gh:USER" or "lp:USER". */
export function parseIdentity(text: string): IdentitySpec {
  const t = text.trim();
  const fail = (why: string) =>
    ccError('invalid-identity', `cannot use "${t}": ${why}; type the store account's email, gh:USER or lp:USER`);
  if (t === '') throw fail('nothing was entered');
  if (t.startsWith('gh:')) {
    const user = t.slice(3);
    if (!GH_USER.test(user)) throw fail('that is not a valid GitHub username');
    return { source: 'github', user };
  }
  if (t.startsWith('lp:')) {
    const user = t.slice(3);
    if (!LP_USER.test(user)) throw fail('that is not a valid Launchpad username');
    return { source: 'launchpad', user };
  }
  if (!EMAIL.test(t)) throw fail('that is not an email address');
  return { source: 'store', email: t };
}

/** How the origin of a key is described in authorized_keys and on screen. */
export function describeOrigin(spec: IdentitySpec): string {
  switch (spec.source) {
    case 'store':
      return `store account ${spec.email}`;
    case 'github':
      return `GitHub user ${spec.user}`;
    case 'launchpad':
      return `Launchpad user ${spec.user}`;
  }
}
