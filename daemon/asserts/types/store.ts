// The store assertion: a store's operator and location (snapd's asserts/store_asserts.go).

import { invalid } from '../errors.js';
import { checkNotEmptyString, checkOptionalString, checkRFC3339Date, checkStringList } from '../header-checks.js';
import type { AssertionParts } from '../assertion.js';

/** The typed view of a store assertion. */
export interface StoreInfo {
  type: 'store';
  store: string;
  operatorId: string;
  url: string;
  friendlyStores: string[];
  location: string;
  timestamp: Date;
}

function checkStoreURL(h: AssertionParts['headers']): string {
  const s = checkOptionalString(h, 'url');
  if (s === '') return '';
  const what = `"url" header`;
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    throw invalid(`${what} must be a valid URL: ${s}`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw invalid(`${what} scheme must be "https" or "http": ${s}`);
  if (u.host === '') throw invalid(`${what} must have a host: ${s}`);
  if (u.search !== '' || s.includes('?')) throw invalid(`${what} must not have a query: ${s}`);
  if (u.hash !== '' || s.includes('#')) throw invalid(`${what} must not have a fragment: ${s}`);
  return s;
}

/** Checks a store assertion and returns its typed view. */
export function assembleStore(a: AssertionParts): StoreInfo {
  const h = a.headers;
  const operatorId = checkNotEmptyString(h, 'operator-id');
  const url = checkStoreURL(h);
  const friendlyStores = checkStringList(h, 'friendly-stores');
  const location = checkOptionalString(h, 'location');
  const timestamp = checkRFC3339Date(h, 'timestamp');
  return { type: 'store', store: h.store as string, operatorId, url, friendlyStores, location, timestamp };
}
