// The system-user assertion: a user a brand may create on its devices
// (snapd's asserts/system_user.go).

import { invalid } from '../errors.js';
import { goQuote } from '../goformat.js';
import {
  checkNotEmptyString,
  checkOptionalBool,
  checkOptionalString,
  checkRFC3339Date,
  checkStringList,
  checkStringMatches,
} from '../header-checks.js';
import type { AssertionParts } from '../assertion.js';

/** The typed view of a system-user assertion. */
export interface SystemUserInfo {
  type: 'system-user';
  brandId: string;
  email: string;
  series: string[];
  models: string[];
  serials: string[];
  name: string;
  username: string;
  password: string;
  forcePasswordChange: boolean;
  sshKeys: string[];
  since: Date;
  until: Date;
  /** 'until-expiration' when the user expires with the assertion (format 2) */
  userPresence: string;
}

const validUsername = /^[a-z0-9][-a-z0-9._]*$/;
const validSaltOrHash = /^[a-zA-Z0-9./]+$/;
// A pragmatic RFC 5322 addr-spec (Go's mail.ParseAddress accepts more exotic forms).
const validEmail = /^[^\s@<>()[\]\\,;:"]+@[^\s@<>()[\]\\,;:"]+$/;

function checkHashedPassword(h: AssertionParts['headers'], name: string): string {
  const pw = checkOptionalString(h, name);
  if (pw === '') return '';
  const l = pw.split('$');
  const parts = l.length > 5 ? [...l.slice(0, 4), l.slice(4).join('$')] : l;
  if (parts.length !== 4 && parts.length !== 5) {
    throw invalid(`${goQuote(name)} header invalid: hashed password must be of the form "$integer-id$salt$hash", see crypt(3)`);
  }
  if (parts.length === 4 && (parts[2] as string).startsWith('rounds=')) {
    throw invalid(`${goQuote(name)} header invalid: missing hash field`);
  }
  const [, id, a, b, c] = parts as string[];
  const [rounds, salt, hash] = parts.length === 4 ? ['', a, b] : [a, b, c];
  if (!/^[+-]?\d+$/.test(id ?? '')) throw invalid(`${goQuote(name)} header must start with "$integer-id$", got ${goQuote(id ?? '')}`);
  if (Number(id) < 6) throw invalid(`${goQuote(name)} header only supports $id$ values of 6 (sha512crypt) or higher`);
  if (rounds?.startsWith('rounds=')) {
    const r = rounds.slice('rounds='.length);
    if (!/^[+-]?\d+$/.test(r)) throw invalid(`${goQuote(name)} header has invalid number of rounds: strconv.Atoi: parsing ${goQuote(r)}: invalid syntax`);
    const n = Number(r);
    if (n < 5000 || n > 999999999) throw invalid(`${goQuote(name)} header rounds parameter out of bounds: ${n}`);
  }
  if (!validSaltOrHash.test(salt ?? '')) throw invalid(`${goQuote(name)} header has invalid chars in salt ${goQuote(salt ?? '')}`);
  if (!validSaltOrHash.test(hash ?? '')) throw invalid(`${goQuote(name)} header has invalid chars in hash ${goQuote(hash ?? '')}`);
  return pw;
}

/** Checks a system-user assertion and returns its typed view. */
export function assembleSystemUser(a: AssertionParts): SystemUserInfo {
  const h = a.headers;
  const email = checkNotEmptyString(h, 'email');
  if (!validEmail.test(email)) {
    throw invalid(`"email" header must be a RFC 5322 compliant email address: mail: missing '@' or angle-addr`);
  }
  const series = checkStringList(h, 'series');
  const models = checkStringList(h, 'models');
  const serials = checkStringList(h, 'serials');
  if (serials.length > 0 && a.format < 1) throw invalid(`the "serials" header is only supported for format 1 or greater`);
  if (serials.length > 0 && models.length !== 1) {
    throw invalid(`in the presence of the "serials" header "models" must specify exactly one model`);
  }
  const name = checkOptionalString(h, 'name');
  const username = checkStringMatches(h, 'username', validUsername, 'header', 'a username starts with a lowercase letter or digit, followed by lowercase letters, digits, ".", "_" or "-"');
  const password = checkHashedPassword(h, 'password');
  const forcePasswordChange = checkOptionalBool(h, 'force-password-change');
  if (forcePasswordChange && password === '') {
    throw invalid(`cannot use "force-password-change" with an empty "password"`);
  }
  const sshKeys = checkStringList(h, 'ssh-keys');
  const since = checkRFC3339Date(h, 'since');
  const until = checkRFC3339Date(h, 'until');
  if (until.getTime() < since.getTime()) throw invalid(`'until' time cannot be before 'since' time`);
  const userPresence = checkOptionalString(h, 'user-presence');
  if (userPresence !== '') {
    if (a.format < 2) throw invalid(`the "user-presence" header is only supported for format 2 or greater`);
    if (userPresence !== 'until-expiration') {
      throw invalid(`invalid "user-presence" header, only explicit valid value is "until-expiration": ${goQuote(userPresence)}`);
    }
  }
  const yearLater = new Date(since.getTime());
  yearLater.setUTCFullYear(yearLater.getUTCFullYear() + 1);
  if (models.length === 0 && until.getTime() > yearLater.getTime()) {
    throw invalid(`'until' time cannot be more than 365 days in the future when no models are specified`);
  }
  return {
    type: 'system-user',
    brandId: h['brand-id'] as string,
    email,
    series,
    models,
    serials,
    name,
    username,
    password,
    forcePasswordChange,
    sshKeys,
    since,
    until,
    userPresence,
  };
}

/** snapd's format analyzer for system-user: serials need 1, user-presence needs 2. */
export function systemUserFormat(headers: AssertionParts['headers']): number {
  if (headers['user-presence'] !== undefined && headers['user-presence'] !== '') return 2;
  const serials = headers.serials;
  return Array.isArray(serials) && serials.length > 0 ? 1 : 0;
}
