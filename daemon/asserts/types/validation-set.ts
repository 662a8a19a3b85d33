// The validation-set assertion: snaps (and revisions) a set requires, allows
// or forbids (snapd's asserts/validation_set.go).

import { invalid } from '../errors.js';
import { goQuote } from '../goformat.js';
import {
  checkExistsString,
  checkInt,
  checkMap,
  checkNotEmptyString,
  checkOptionalString,
  checkRFC3339Date,
  checkStringMatches,
} from '../header-checks.js';
import type { HeaderMap } from '../headers.js';
import type { AssertionParts } from '../assertion.js';
import { isValidSnapName } from '../../snap/name.js';
import { validSnapId } from './naming.js';

/** A snap's presence in a validation set. */
export type Presence = 'required' | 'optional' | 'invalid';

/** One snap entry of a validation set. */
export interface ValidationSetSnap {
  name: string;
  snapId: string;
  presence: Presence;
  /** 0 when any revision is fine */
  revision: number;
  components: Record<string, { presence: Presence; revision: number }>;
}

/** The typed view of a validation-set assertion. */
export interface ValidationSetInfo {
  type: 'validation-set';
  series: string;
  accountId: string;
  name: string;
  sequence: number;
  snaps: ValidationSetSnap[];
  timestamp: Date;
}

const validName = /^[a-z0-9](?:-?[a-z0-9])*$/;
const presences = ['required', 'optional', 'invalid'];

function checkRevision(m: HeaderMap, name: string, what: string): number {
  const n = checkInt(m, name, what);
  if (n < 1) throw invalid(`${goQuote(name)} ${what} must be >=1: ${n}`);
  return n;
}

function checkPresence(m: HeaderMap, what: string, optional: boolean): Presence | '' {
  const p = optional ? checkOptionalString(m, 'presence', what) : checkExistsString(m, 'presence', what);
  if (p !== '' && !presences.includes(p)) throw invalid(`presence ${what} must be one of ${presences.join('|')}`);
  return p as Presence | '';
}

function checkComponents(snapName: string, snap: HeaderMap, snapRevision: number): ValidationSetSnap['components'] {
  let mapping: HeaderMap | null;
  try {
    mapping = checkMap(snap, 'components', `of snap ${goQuote(snapName)}`);
  } catch {
    throw invalid(`"components" field in "snaps" header must be a map`);
  }
  const res: ValidationSetSnap['components'] = {};
  for (const [name, comp] of Object.entries(mapping ?? {})) {
    if (Array.isArray(comp)) throw invalid(`each field in "components" map must be either a map or a string`);
    const parsed: HeaderMap = typeof comp === 'string' ? { presence: comp } : comp;
    if (!isValidSnapName(name)) throw invalid(`invalid component name ${goQuote(name)}`);
    const what = `of component ${goQuote(`${snapName}+${name}`)}`;
    const presence = checkPresence(parsed, what, false) as Presence;
    const revision = parsed.revision !== undefined ? checkRevision(parsed, 'revision', what) : 0;
    if (revision !== 0 && presence === 'invalid') {
      throw invalid(`cannot specify component revision ${what} at the same time as stating its presence is invalid`);
    }
    if (snapRevision !== 0 && revision === 0 && presence !== 'invalid') {
      throw invalid(`must specify revision ${what} since its associated snap specifies a revision`);
    }
    if (snapRevision === 0 && revision !== 0) {
      throw invalid(`cannot specify revision ${what} if its associated snap does not specify a revision`);
    }
    res[name] = { presence, revision };
  }
  return res;
}

function checkSnap(snap: HeaderMap): ValidationSetSnap {
  const name = checkNotEmptyString(snap, 'name', 'of snap');
  if (!isValidSnapName(name)) throw invalid(`invalid snap name ${goQuote(name)}`);
  const what = `of snap ${goQuote(name)}`;
  const snapId = checkStringMatches(snap, 'id', validSnapId, what);
  const presence = checkPresence(snap, what, true);
  const revision = snap.revision !== undefined ? checkRevision(snap, 'revision', what) : 0;
  if (revision !== 0 && presence === 'invalid') {
    throw invalid(`cannot specify revision ${what} at the same time as stating its presence is invalid`);
  }
  const components = checkComponents(name, snap, revision);
  return { name, snapId, presence: presence || 'required', revision, components };
}

/** Checks a validation-set assertion and returns its typed view. */
export function assembleValidationSet(a: AssertionParts & { authorityId: string }): ValidationSetInfo {
  const h = a.headers;
  const accountId = typeof h['account-id'] === 'string' ? h['account-id'] : '';
  if (accountId !== a.authorityId) {
    throw invalid(
      `authority-id and account-id must match, validation-set assertions are expected to be signed by the issuer account: ${goQuote(a.authorityId)} != ${goQuote(accountId)}`,
    );
  }
  const name = checkStringMatches(h, 'name', validName);
  const sequence = checkInt(h, 'sequence');
  if (sequence < 1) throw invalid(`"sequence" must be >=1: ${sequence}`);
  const list = h.snaps;
  if (list === undefined) throw invalid(`"snaps" header is mandatory`);
  const wrongType = `"snaps" header must be a list of maps`;
  if (!Array.isArray(list)) throw invalid(wrongType);
  const seen = new Set<string>();
  const seenIds = new Map<string, string>();
  const snaps = list.map((entry) => {
    if (typeof entry === 'string' || Array.isArray(entry)) throw invalid(wrongType);
    const s = checkSnap(entry);
    if (seen.has(s.name)) throw invalid(`cannot list the same snap ${goQuote(s.name)} multiple times`);
    seen.add(s.name);
    const under = seenIds.get(s.snapId);
    if (under !== undefined) {
      throw invalid(
        `cannot specify the same snap id ${goQuote(s.snapId)} multiple times, specified for snaps ${goQuote(under)} and ${goQuote(s.name)}`,
      );
    }
    seenIds.set(s.snapId, s.name);
    return s;
  });
  const timestamp = checkRFC3339Date(h, 'timestamp');
  return { type: 'validation-set', series: h.series as string, accountId, name, sequence, snaps, timestamp };
}
