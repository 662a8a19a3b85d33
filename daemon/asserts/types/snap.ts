// snap-declaration and snap-revision: a snap's identity and one uploaded
// revision of it (snapd's asserts/snap_asserts.go).

import { invalid } from '../errors.js';
import { goQuote } from '../goformat.js';
import {
  checkDigest,
  checkExistsString,
  checkInt,
  checkMap,
  checkNotEmptyString,
  checkRFC3339Date,
  checkStringList,
  checkStringListInMap,
  checkStringMatches,
  checkUint,
} from '../header-checks.js';
import type { HeaderMap } from '../headers.js';
import type { AssertionParts } from '../assertion.js';
import { validAccountId, validAlias, validApp, validProvenance } from './naming.js';

/** The typed view of a snap-declaration assertion. */
export interface SnapDeclarationInfo {
  type: 'snap-declaration';
  series: string;
  snapId: string;
  snapName: string;
  publisherId: string;
  refreshControl: string[];
  autoAliases: string[];
  aliases: Record<string, string>;
  /** plug and slot rules are kept as headers; they are not compiled here */
  plugs: HeaderMap | null;
  slots: HeaderMap | null;
  timestamp: Date;
}

/** The typed view of a snap-revision assertion. */
export interface SnapRevisionInfo {
  type: 'snap-revision';
  snapSha3_384: string;
  provenance: string;
  snapId: string;
  snapSize: number;
  snapRevision: number;
  developerId: string;
  timestamp: Date;
}

function checkSnapRevision(m: HeaderMap, name: string, what: string): number {
  const n = checkInt(m, name, what);
  if (n < 1) throw invalid(`${goQuote(name)} ${what} must be >=1: ${n}`);
  return n;
}

function checkAliases(h: AssertionParts['headers']): Record<string, string> {
  const v = h.aliases;
  if (v === undefined) return {};
  if (!Array.isArray(v)) throw invalid(`"aliases" header must be a list of alias maps`);
  const res: Record<string, string> = {};
  v.forEach((item, i) => {
    if (typeof item === 'string' || Array.isArray(item)) throw invalid(`"aliases" header must be a list of alias maps`);
    const name = checkStringMatches(item, 'name', validAlias, `in "aliases" item ${i + 1}`);
    const target = checkStringMatches(item, 'target', validApp, `for alias ${goQuote(name)}`);
    if (Object.hasOwn(res, name)) throw invalid(`duplicated definition in "aliases" for alias ${goQuote(name)}`);
    res[name] = target;
  });
  return res;
}

function checkRevisionAuthority(h: AssertionParts['headers']): void {
  const ra = h['revision-authority'];
  if (ra === undefined) return;
  if (!Array.isArray(ra)) throw invalid('revision-authority stanza must be a list of maps');
  if (ra.length === 0) throw invalid('revision-authority stanza cannot be empty');
  for (const m of ra) {
    if (typeof m === 'string' || Array.isArray(m)) throw invalid('revision-authority stanza must be a list of maps');
    checkStringMatches(m, 'account-id', validAccountId, 'in revision authority');
    const prov = checkStringListInMap(m, 'provenance', 'provenance in revision authority', validProvenance);
    if (prov.length === 0) throw invalid('provenance in revision authority cannot be empty');
    const min = m['min-revision'] !== undefined ? checkSnapRevision(m, 'min-revision', 'in revision authority') : 1;
    if (m['max-revision'] !== undefined) {
      const max = checkSnapRevision(m, 'max-revision', 'in revision authority');
      if (max < min) throw invalid('optional max-revision cannot be less than min-revision in revision-authority');
    }
  }
}

/** Checks a snap-declaration assertion and returns its typed view. */
export function assembleSnapDeclaration(a: AssertionParts): SnapDeclarationInfo {
  const h = a.headers;
  const snapName = checkExistsString(h, 'snap-name');
  const publisherId = checkNotEmptyString(h, 'publisher-id');
  const timestamp = checkRFC3339Date(h, 'timestamp');
  const refreshControl = checkStringList(h, 'refresh-control');
  const plugs = checkMap(h, 'plugs');
  const slots = checkMap(h, 'slots');
  const autoAliases = checkStringList(h, 'auto-aliases', validAlias);
  const aliases = checkAliases(h);
  checkRevisionAuthority(h);
  return {
    type: 'snap-declaration',
    series: h.series as string,
    snapId: h['snap-id'] as string,
    snapName,
    publisherId,
    refreshControl,
    autoAliases,
    aliases,
    plugs,
    slots,
    timestamp,
  };
}

/** Checks a snap-revision assertion and returns its typed view. */
export function assembleSnapRevision(a: AssertionParts): SnapRevisionInfo {
  const h = a.headers;
  const snapSha3_384 = checkDigest(h, 'snap-sha3-384');
  const provenance = checkStringMatches(h, 'provenance', validProvenance);
  const snapId = checkNotEmptyString(h, 'snap-id');
  const snapSize = checkUint(h, 'snap-size');
  const snapRevision = checkSnapRevision(h, 'snap-revision', 'header');
  const developerId = checkNotEmptyString(h, 'developer-id');
  const timestamp = checkRFC3339Date(h, 'timestamp');
  if (h.integrity !== undefined && !Array.isArray(h.integrity)) {
    throw invalid(`"integrity" header must contain a list of integrity data`);
  }
  return { type: 'snap-revision', snapSha3_384, provenance, snapId, snapSize, snapRevision, developerId, timestamp };
}
