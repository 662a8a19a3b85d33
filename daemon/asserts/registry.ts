// The assertion type registry: one row per type snapd knows, with its primary
// key, whether it has an authority, its newest format and its rules.

import type { AssertionParts } from './assertion.js';
import type { Headers } from './headers.js';
import { checkOptionalRFC3339Date } from './header-checks.js';
import { assembleAccount, type AccountInfo } from './types/account.js';
import {
  accountKeyFormat,
  assembleAccountKey,
  assembleAccountKeyRequest,
  type AccountKeyInfo,
  type AccountKeyRequestInfo,
} from './types/account-key.js';
import { assembleModel, type ModelInfo } from './types/model.js';
import { assembleSnapDeclaration, assembleSnapRevision, type SnapDeclarationInfo, type SnapRevisionInfo } from './types/snap.js';
import { assembleStore, type StoreInfo } from './types/store.js';
import { assembleSystemUser, systemUserFormat, type SystemUserInfo } from './types/system-user.js';
import { assembleValidationSet, type ValidationSetInfo } from './types/validation-set.js';
import { defaultProvenance } from './types/naming.js';

/** Types this module knows only by their table row: generic checks, no typed rules. */
export type GenericTypeName =
  | 'serial'
  | 'base-declaration'
  | 'snap-build'
  | 'snap-developer'
  | 'validation'
  | 'repair'
  | 'preseed'
  | 'snap-resource-revision'
  | 'snap-resource-pair'
  | 'confdb-schema'
  | 'cluster'
  | 'request-message'
  | 'hardware-identity'
  | 'device-session-request'
  | 'serial-request'
  | 'confdb-control'
  | 'response-message';

/** The typed view of an assertion of a type without typed rules here. */
export interface GenericInfo {
  type: GenericTypeName;
  /** the timestamp header when present and valid */
  timestamp: Date | null;
}

/** Every typed view, discriminated by type name. */
export type AssertionInfo =
  | ModelInfo
  | AccountInfo
  | AccountKeyInfo
  | AccountKeyRequestInfo
  | SnapDeclarationInfo
  | SnapRevisionInfo
  | SystemUserInfo
  | ValidationSetInfo
  | StoreInfo
  | GenericInfo;

/** The name of every known assertion type. */
export type AssertionTypeName = AssertionInfo['type'];

/** One row of the registry. */
export interface AssertionType {
  readonly name: AssertionTypeName;
  /** headers identifying an assertion of the type, in encoding order */
  readonly primaryKey: readonly string[];
  /** defaults of optional primary key headers (a suffix of primaryKey) */
  readonly optionalPrimaryKeyDefaults: Readonly<Record<string, string>>;
  /** true for self-signed / on-the-wire types that carry no authority-id */
  readonly noAuthority: boolean;
  /** newest format iteration understood */
  readonly maxFormat: number;
  /** the lowest format covering the features the headers use */
  readonly suggestFormat: (headers: Readonly<Headers>) => number;
  /** body must be JSON, indented by 2 with sorted keys */
  readonly jsonBody: boolean;
  /** the type's rules: throws on violation, returns the typed view */
  readonly assemble: (a: AssertionParts & { authorityId: string }) => AssertionInfo;
}

function generic(name: GenericTypeName) {
  return (a: AssertionParts): GenericInfo => {
    let timestamp: Date | null = null;
    try {
      timestamp = checkOptionalRFC3339Date(a.headers, 'timestamp');
    } catch {
      timestamp = null;
    }
    return { type: name, timestamp };
  };
}

type Row = Partial<AssertionType> & Pick<AssertionType, 'name' | 'primaryKey' | 'assemble'>;

function row(r: Row): AssertionType {
  return {
    optionalPrimaryKeyDefaults: {},
    noAuthority: false,
    maxFormat: 0,
    suggestFormat: () => 0,
    jsonBody: false,
    ...r,
  };
}

const table: readonly AssertionType[] = [
  row({ name: 'account', primaryKey: ['account-id'], assemble: assembleAccount }),
  row({
    name: 'account-key',
    primaryKey: ['public-key-sha3-384'],
    maxFormat: 1,
    suggestFormat: accountKeyFormat,
    assemble: assembleAccountKey,
  }),
  row({ name: 'repair', primaryKey: ['brand-id', 'repair-id'], assemble: generic('repair') }),
  row({ name: 'model', primaryKey: ['series', 'brand-id', 'model'], assemble: assembleModel }),
  row({ name: 'serial', primaryKey: ['brand-id', 'model', 'serial'], assemble: generic('serial') }),
  row({ name: 'base-declaration', primaryKey: ['series'], assemble: generic('base-declaration') }),
  row({ name: 'snap-declaration', primaryKey: ['series', 'snap-id'], maxFormat: 7, assemble: assembleSnapDeclaration }),
  row({ name: 'snap-build', primaryKey: ['snap-sha3-384'], assemble: generic('snap-build') }),
  row({
    name: 'snap-revision',
    primaryKey: ['snap-sha3-384', 'provenance'],
    optionalPrimaryKeyDefaults: { provenance: defaultProvenance },
    assemble: assembleSnapRevision,
  }),
  row({ name: 'snap-developer', primaryKey: ['snap-id', 'publisher-id'], assemble: generic('snap-developer') }),
  row({
    name: 'system-user',
    primaryKey: ['brand-id', 'email'],
    maxFormat: 2,
    suggestFormat: systemUserFormat,
    assemble: assembleSystemUser,
  }),
  row({
    name: 'validation',
    primaryKey: ['series', 'snap-id', 'approved-snap-id', 'approved-snap-revision'],
    assemble: generic('validation'),
  }),
  row({ name: 'validation-set', primaryKey: ['series', 'account-id', 'name', 'sequence'], assemble: assembleValidationSet }),
  row({ name: 'store', primaryKey: ['store'], assemble: assembleStore }),
  row({ name: 'preseed', primaryKey: ['series', 'brand-id', 'model', 'system-label'], assemble: generic('preseed') }),
  row({
    name: 'snap-resource-revision',
    primaryKey: ['snap-id', 'resource-name', 'resource-sha3-384', 'provenance'],
    optionalPrimaryKeyDefaults: { provenance: defaultProvenance },
    assemble: generic('snap-resource-revision'),
  }),
  row({
    name: 'snap-resource-pair',
    primaryKey: ['snap-id', 'resource-name', 'resource-revision', 'snap-revision', 'provenance'],
    optionalPrimaryKeyDefaults: { provenance: defaultProvenance },
    assemble: generic('snap-resource-pair'),
  }),
  row({ name: 'confdb-schema', primaryKey: ['account-id', 'name'], jsonBody: true, assemble: generic('confdb-schema') }),
  row({ name: 'cluster', primaryKey: ['cluster-id', 'sequence'], assemble: generic('cluster') }),
  row({ name: 'request-message', primaryKey: ['account-id', 'message-id'], assemble: generic('request-message') }),
  row({
    name: 'hardware-identity',
    primaryKey: ['issuer-id', 'hardware-id-key-sha3-384'],
    assemble: generic('hardware-identity'),
  }),
  row({
    name: 'device-session-request',
    primaryKey: ['brand-id', 'model', 'serial'],
    noAuthority: true,
    assemble: generic('device-session-request'),
  }),
  row({ name: 'serial-request', primaryKey: [], noAuthority: true, assemble: generic('serial-request') }),
  row({
    name: 'account-key-request',
    primaryKey: ['public-key-sha3-384'],
    noAuthority: true,
    assemble: assembleAccountKeyRequest,
  }),
  row({
    name: 'confdb-control',
    primaryKey: ['brand-id', 'model', 'serial'],
    noAuthority: true,
    assemble: generic('confdb-control'),
  }),
  row({
    name: 'response-message',
    primaryKey: ['account-id', 'message-id', 'device'],
    noAuthority: true,
    assemble: generic('response-message'),
  }),
];

const byName = new Map<string, AssertionType>(table.map((t) => [t.name, t]));

/** The registry row of a type name, or undefined for unknown types. */
export function assertionType(name: string): AssertionType | undefined {
  return byName.get(name);
}

/** All known type names, sorted. */
export function assertionTypeNames(): string[] {
  return [...byName.keys()].sort();
}

/** Checks the registry's invariants (optional primary keys form a suffix); run by tests at start-up. */
export function validateRegistry(): void {
  for (const t of table) {
    let optional = 0;
    for (const k of t.primaryKey) {
      const defl = t.optionalPrimaryKeyDefaults[k];
      if (optional > 0 && !defl) {
        throw new Error(`assertion type "${t.name}" primary key header "${k}" has no default, optional primary keys must be a proper suffix of the primary key`);
      }
      if (defl) optional++;
    }
    if (Object.keys(t.optionalPrimaryKeyDefaults).length !== optional) {
      throw new Error(`assertion type "${t.name}" has defaults values for unknown primary key headers`);
    }
  }
}

validateRegistry();

/** The primary key values of an assertion in its type's order (defaults filled in), to index it. */
export function primaryKeyOf(a: { readonly type: string; readonly headers: Readonly<Headers> }): string[] {
  const type = assertionType(a.type);
  if (!type) return [];
  return type.primaryKey.map((k) => {
    const v = a.headers[k];
    return typeof v === 'string' ? v : (type.optionalPrimaryKeyDefaults[k] ?? '');
  });
}
