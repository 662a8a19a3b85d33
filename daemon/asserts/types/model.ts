// The model assertion: what a device is (snapd's asserts/model.go rules and texts).

import { invalid } from '../errors.js';
import { goQuote } from '../goformat.js';
import {
  checkExistsString,
  checkInt,
  checkNotEmptyString,
  checkOptionalBool,
  checkOptionalString,
  checkRFC3339Date,
  checkStringList,
  checkStringListInMap,
  checkStringMatches,
} from '../header-checks.js';
import type { HeaderMap, HeaderValue } from '../headers.js';
import type { AssertionParts } from '../assertion.js';
import { headerString } from '../assertion.js';
import { isValidSnapName } from '../../snap/name.js';
import { parseChannelVerbatim, validAccountId, validSnapId, wellKnownSnapId } from './naming.js';

/** Model grades, weakest to strongest; 'unset' for UC16/18 models. */
export type ModelGrade = 'unset' | 'dangerous' | 'signed' | 'secured';
/** Storage encryption policy of UC20+ models; 'unset' for UC16/18 models. */
export type StorageSafety = 'unset' | 'encrypted' | 'prefer-encrypted' | 'prefer-unencrypted';

/** A component of a model snap. */
export interface ModelComponent {
  presence: 'required' | 'optional';
  modes: string[];
}

/** A snap the model names, whichever form (UC16/18 headers or UC20+ snaps list) it came from. */
export interface ModelSnap {
  name: string;
  /** '' when not given (UC16/18 forms, dangerous UC20 models) */
  snapId: string;
  /** 'app' | 'base' | 'gadget' | 'kernel' | 'core' | 'snapd', or '' for UC16/18 required-snaps */
  snapType: string;
  modes: string[];
  /** UC20+ only; '' otherwise */
  defaultChannel: string;
  /** UC16/18 kernel=TRACK / gadget=TRACK; '' otherwise */
  pinnedTrack: string;
  presence: 'required' | 'optional';
  classic: boolean;
  components: Record<string, ModelComponent>;
}

/** A validation set a model requires. */
export interface ModelValidationSet {
  accountId: string;
  name: string;
  /** 0 when tracking the latest */
  sequence: number;
  mode: 'prefer-enforce' | 'enforce';
}

/** The typed view of a model assertion. */
export interface ModelInfo {
  type: 'model';
  series: string;
  brandId: string;
  model: string;
  /** display-name, or the model name when absent */
  displayName: string;
  architecture: string;
  classic: boolean;
  distribution: string;
  base: string;
  store: string;
  grade: ModelGrade;
  storageSafety: StorageSafety;
  baseSnap: ModelSnap | null;
  gadgetSnap: ModelSnap | null;
  kernelSnap: ModelSnap | null;
  /** essential snaps first (snapd, kernel, base, gadget), then the others in listed order */
  allSnaps: ModelSnap[];
  /** how many of allSnaps are essential */
  numEssentialSnaps: number;
  validationSets: ModelValidationSet[];
  serialAuthority: string[];
  /** null means '*' (any authority) */
  systemUserAuthority: string[] | null;
  preseedAuthority: string[];
  timestamp: Date;
}

const validModel = /^[a-zA-Z0-9](?:-?[a-zA-Z0-9])*$/;

/** What a model name may be, in words, with the given name made valid as the example. */
function modelNameRule(given: unknown): string {
  const fixed = typeof given === 'string' ? given.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '') : '';
  return `a model name is lowercase letters and digits, with single hyphens between them, like ${goQuote(fixed || 'my-model')}`;
}
const validDistribution = /^[a-z0-9._-]*$/;
const validSnapMode = /^[a-z][-a-z]+$/;
const validValidationSetName = /^[a-z0-9](?:-?[a-z0-9])*$/;
const validSnapTypes = ['app', 'base', 'gadget', 'kernel', 'core', 'snapd'];
const validPresences = ['required', 'optional'];
const validGrades = ['secured', 'signed', 'dangerous'];
const validStorageSafeties = ['encrypted', 'prefer-encrypted', 'prefer-unencrypted'];
const essentialModes = ['run', 'ephemeral'];
const defaultModes = ['run'];

function isEssential(name: string, snapType: string, base: string): boolean {
  return snapType === 'snapd' || snapType === 'kernel' || snapType === 'gadget' || name === base;
}

function checkModes(snap: HeaderMap, essential: boolean, what: string): string[] {
  let modes = checkStringListInMap(snap, 'modes', `"modes" ${what}`, validSnapMode);
  if (essential) {
    if (modes.length !== 0) throw invalid(`essential snaps are always available, cannot specify modes ${what}`);
    modes = [...essentialModes];
  }
  return modes.length === 0 ? [...defaultModes] : modes;
}

function checkComponents(snap: HeaderMap, validModes: string[], what: string): Record<string, ModelComponent> {
  const value = snap.components;
  if (value === undefined) return {};
  if (typeof value === 'string' || Array.isArray(value)) {
    throw invalid(`"components" ${what} must be a map from strings to components`);
  }
  const res: Record<string, ModelComponent> = {};
  for (const [name, comp] of Object.entries(value)) {
    if (!isValidSnapName(name)) throw invalid(`invalid component name ${name}`);
    const compWhat = `of component ${goQuote(name)} ${what}`;
    if (typeof comp === 'string') {
      if (!validPresences.includes(comp)) throw invalid(`presence ${compWhat} must be one of required|optional`);
      res[name] = { presence: comp as ModelComponent['presence'], modes: [...validModes] };
      continue;
    }
    if (Array.isArray(comp)) {
      throw invalid(`${compWhat} must be a map of strings to components or one of required|optional`);
    }
    for (const key of Object.keys(comp)) {
      if (key !== 'presence' && key !== 'modes') throw invalid(`entry ${goQuote(key)} ${compWhat} is unknown`);
    }
    const presence = checkNotEmptyString(comp, 'presence', compWhat);
    if (!validPresences.includes(presence)) throw invalid(`presence ${compWhat} must be one of required|optional`);
    let modes = checkStringListInMap(comp, 'modes', `modes ${compWhat}`, validSnapMode);
    if (modes.length === 0) modes = [...validModes];
    for (const m of modes) {
      if (!validModes.includes(m)) throw invalid(`mode ${goQuote(m)} ${compWhat} is incompatible with the snap modes`);
    }
    res[name] = { presence: presence as ModelComponent['presence'], modes };
  }
  return res;
}

function checkModelSnap(snap: HeaderMap, base: string, grade: ModelGrade, modelIsClassic: boolean): ModelSnap {
  const name = checkNotEmptyString(snap, 'name', 'of snap');
  if (!isValidSnapName(name)) throw invalid(`invalid snap name ${goQuote(name)}`);
  const what = `of snap ${goQuote(name)}`;
  let snapId = '';
  if (snap.id !== undefined) snapId = checkStringMatches(snap, 'id', validSnapId, what);
  else if (grade !== 'dangerous') throw invalid(`"id" ${what} is mandatory for ${grade} grade model`);

  const snapType = checkOptionalString(snap, 'type', what) || 'app';
  if (!validSnapTypes.includes(snapType)) {
    throw invalid(`type of snap ${goQuote(name)} must be one of ${validSnapTypes.join('|')}`);
  }
  let presence = checkOptionalString(snap, 'presence', what);
  if (presence !== '' && !validPresences.includes(presence)) {
    throw invalid(`presence of snap ${goQuote(name)} must be one of required|optional`);
  }
  const essential = isEssential(name, snapType, base);
  if (essential && presence !== '') {
    throw invalid(`essential snaps are always available, cannot specify presence for snap ${goQuote(name)}`);
  }
  if (presence === '') presence = 'required';
  const modes = checkModes(snap, essential, what);

  const defaultChannel = checkOptionalString(snap, 'default-channel', what) || 'latest/stable';
  const ch = parseChannelVerbatim(defaultChannel);
  if (typeof ch === 'string') throw invalid(`invalid default channel for snap ${goQuote(name)}: ${ch}`);
  if (ch.track === '') throw invalid(`default channel for snap ${goQuote(name)} must specify a track`);

  const classic = checkOptionalBool(snap, 'classic', what);
  if (classic && !modelIsClassic) throw invalid(`snap ${goQuote(name)} cannot be classic in non-classic model`);
  if (classic && snapType !== 'app') {
    throw invalid(`snap ${goQuote(name)} cannot be classic with type ${goQuote(snapType)} instead of app`);
  }
  if (classic && (modes.length !== 1 || modes[0] !== 'run')) {
    throw invalid(`classic snap ${goQuote(name)} not allowed outside of run mode: [${modes.join(' ')}]`);
  }
  const components = checkComponents(snap, modes, what);
  return {
    name,
    snapId,
    snapType,
    modes,
    defaultChannel,
    pinnedTrack: '',
    presence: presence as ModelSnap['presence'],
    classic,
    components,
  };
}

interface ModelSnaps {
  snapd: ModelSnap | null;
  base: ModelSnap | null;
  gadget: ModelSnap | null;
  kernel: ModelSnap | null;
  others: ModelSnap[];
}

function checkExtendedSnaps(value: HeaderValue, base: string, grade: ModelGrade, classic: boolean): ModelSnaps {
  const wrongType = `"snaps" header must be a list of maps`;
  if (!Array.isArray(value)) throw invalid(wrongType);
  const res: ModelSnaps = { snapd: null, base: null, gadget: null, kernel: null, others: [] };
  const seen = new Set<string>();
  const seenIds = new Map<string, string>();
  for (const entry of value) {
    if (typeof entry === 'string' || Array.isArray(entry)) throw invalid(wrongType);
    const snap = checkModelSnap(entry, base, grade, classic);
    if (seen.has(snap.name)) throw invalid(`cannot list the same snap ${goQuote(snap.name)} multiple times`);
    seen.add(snap.name);
    if (snap.snapId !== '') {
      const under = seenIds.get(snap.snapId);
      if (under !== undefined) {
        throw invalid(
          `cannot specify the same snap id ${goQuote(snap.snapId)} multiple times, specified for snaps ${goQuote(under)} and ${goQuote(snap.name)}`,
        );
      }
      seenIds.set(snap.snapId, snap.name);
    }
    const slot = (['snapd', 'kernel', 'gadget'] as const).find((t) => t === snap.snapType);
    if (slot) {
      const prev = res[slot];
      if (prev) throw invalid(`cannot specify multiple ${slot} snaps: ${goQuote(prev.name)} and ${goQuote(snap.name)}`);
      res[slot] = snap;
    } else if (snap.name === base) {
      if (snap.snapType !== 'base') {
        throw invalid(`boot base ${goQuote(base)} must specify type "base", not ${goQuote(snap.snapType)}`);
      }
      res.base = snap;
    }
    if (!isEssential(snap.name, snap.snapType, base)) res.others.push(snap);
  }
  return res;
}

function checkSnapWithTrack(headers: HeaderMap, which: 'kernel' | 'gadget'): ModelSnap | null {
  const v = headers[which];
  if (v === undefined) return null;
  if (typeof v !== 'string') throw invalid(`${goQuote(which)} header must be a string`);
  const eq = v.indexOf('=');
  const name = eq === -1 ? v : v.slice(0, eq);
  const track = eq === -1 ? '' : v.slice(eq + 1);
  if (!isValidSnapName(name)) throw invalid(`invalid snap name in ${goQuote(which)} header: ${name}`);
  if (eq !== -1) {
    if (track.includes('/')) throw invalid(`${goQuote(which)} channel selector must be a track name only`);
    if (['stable', 'candidate', 'beta', 'edge'].includes(track)) {
      throw invalid(`${goQuote(which)} channel selector must be a track name`);
    }
  }
  return requiredSnap(name, which, track);
}

function requiredSnap(name: string, snapType: string, pinnedTrack = ''): ModelSnap {
  return {
    name,
    snapId: '',
    snapType,
    modes: [...defaultModes],
    defaultChannel: '',
    pinnedTrack,
    presence: 'required',
    classic: false,
    components: {},
  };
}

function checkOptionalAuthority(headers: HeaderMap, name: string, brandId: string, acceptsWildcard: boolean): string[] | null {
  const v = headers[name];
  if (v === undefined) return [brandId];
  if (typeof v === 'string' && acceptsWildcard && v === '*') return null;
  if (Array.isArray(v)) {
    const ok = v.every((x) => typeof x === 'string' && validAccountId.test(x));
    if (ok) {
      const lst = v as string[];
      return lst.includes(brandId) ? [...lst] : [brandId, ...lst];
    }
  }
  throw invalid(
    acceptsWildcard
      ? `${goQuote(name)} header must be '*' or a list of account ids`
      : `${goQuote(name)} header must be a list of account ids`,
  );
}

function checkValidationSets(headers: HeaderMap, brandId: string): ModelValidationSet[] {
  const v = headers['validation-sets'];
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw invalid(`"validation-sets" must be a list of validation sets`);
  const seen = new Set<string>();
  return v.map((entry) => {
    if (typeof entry === 'string' || Array.isArray(entry)) {
      throw invalid(`entry in "validation-sets" is not a valid validation-set`);
    }
    const name = checkStringMatches(entry, 'name', validValidationSetName, 'of validation-set');
    let what = `of validation-set ${goQuote(name)}`;
    const accountId = checkOptionalString(entry, 'account-id', what) || brandId;
    what = `of validation-set "${accountId}/${name}"`;
    let sequence = 0;
    if (entry.sequence !== undefined) {
      sequence = checkInt(entry, 'sequence', what);
      if (sequence <= 0) {
        throw invalid(`"sequence" ${what} must be larger than 0 or left unspecified (meaning tracking latest)`);
      }
    }
    const mode = checkNotEmptyString(entry, 'mode', what);
    if (mode !== 'prefer-enforce' && mode !== 'enforce') {
      throw invalid(`"mode" ${what} must be prefer-enforce|enforce, not ${goQuote(mode)}`);
    }
    const key = `${accountId}/${name}`;
    if (seen.has(key)) throw invalid(`cannot add validation set ${goQuote(key)} twice`);
    seen.add(key);
    return { accountId, name, sequence, mode };
  });
}

/** Checks a model assertion against snapd's rules and returns its typed view. */
export function assembleModel(a: AssertionParts & { authorityId: string }): ModelInfo {
  const h = a.headers as HeaderMap;
  const brandId = headerString(a, 'brand-id');
  if (brandId !== a.authorityId) {
    throw invalid(
      `authority-id and brand-id must match, model assertions are expected to be signed by the brand: ${goQuote(a.authorityId)} != ${goQuote(brandId)}`,
    );
  }
  const model = checkStringMatches(h, 'model', validModel, 'header', modelNameRule(h.model));
  if (model.toLowerCase() !== model) throw invalid(`"model" header cannot contain uppercase letters; ${modelNameRule(h.model)}`);
  const classic = checkOptionalBool(h, 'classic');
  const extended = h.snaps !== undefined;
  if (extended) {
    for (const conflicting of ['gadget', 'kernel', 'required-snaps']) {
      if (h[conflicting] !== undefined) {
        throw invalid(`cannot specify separate ${goQuote(conflicting)} header once using the extended snaps header`);
      }
    }
  } else {
    if (h.grade !== undefined) throw invalid('cannot specify a grade for model without the extended snaps header');
    if (h['storage-safety'] !== undefined) {
      throw invalid('cannot specify storage-safety for model without the extended snaps header');
    }
  }
  if (classic && !extended) {
    if (h.kernel !== undefined) throw invalid('cannot specify a kernel with a non-extended classic model');
    if (h.base !== undefined) throw invalid('cannot specify a base with a non-extended classic model');
  }
  if (classic && extended) {
    try {
      checkStringMatches(h, 'distribution', validDistribution);
    } catch (err) {
      throw invalid(`${(err as Error).message}, see distribution ID in os-release spec`);
    }
  } else if (h.distribution !== undefined) {
    throw invalid('cannot specify distribution for model unless it is classic and has an extended snaps header');
  }
  if (extended) {
    for (const name of ['architecture', 'base']) checkNotEmptyString(h, name);
  } else if (classic) {
    for (const name of ['architecture', 'gadget']) checkOptionalString(h, name);
  } else {
    for (const name of ['architecture', 'gadget', 'kernel']) checkNotEmptyString(h, name);
  }

  const base = checkOptionalString(h, 'base');
  let baseSnap: ModelSnap | null = null;
  if (base !== '') {
    if (!isValidSnapName(base)) throw invalid(`invalid snap name in "base" header: ${base}`);
    baseSnap = requiredSnap(base, 'base');
  }
  const store = checkOptionalString(h, 'store');
  const displayName = checkOptionalString(h, 'display-name');

  let snaps: ModelSnaps;
  let grade: ModelGrade = 'unset';
  let storageSafety: StorageSafety = 'unset';
  if (extended) {
    const gradeStr = checkOptionalString(h, 'grade');
    if (gradeStr !== '' && !validGrades.includes(gradeStr)) {
      throw invalid(`grade for model must be ${validGrades.join('|')}, not ${goQuote(gradeStr)}`);
    }
    grade = (gradeStr || 'signed') as ModelGrade;
    const safetyStr = checkOptionalString(h, 'storage-safety');
    if (safetyStr !== '' && !validStorageSafeties.includes(safetyStr)) {
      throw invalid(`storage-safety for model must be ${validStorageSafeties.join('|')}, not ${goQuote(safetyStr)}`);
    }
    storageSafety = (safetyStr || (grade === 'secured' ? 'encrypted' : 'prefer-encrypted')) as StorageSafety;
    if (grade === 'secured' && storageSafety !== 'encrypted') {
      throw invalid(`secured grade model must not have storage-safety overridden, only "encrypted" is valid`);
    }
    snaps = checkExtendedSnaps(h.snaps as HeaderValue, base, grade, classic);
    if (!classic) {
      if (!snaps.gadget) throw invalid(`one "snaps" header entry must specify the model gadget`);
      if (!snaps.kernel) throw invalid(`one "snaps" header entry must specify the model kernel`);
    } else if (snaps.kernel && !snaps.gadget) {
      throw invalid('cannot specify a kernel in an extended classic model without a model gadget');
    }
    if (!snaps.base && baseSnap) {
      const snapId = wellKnownSnapId(baseSnap.name);
      if (snapId === '' && grade !== 'dangerous') {
        throw invalid(`cannot specify not well-known base ${goQuote(baseSnap.name)} without a corresponding "snaps" header entry`);
      }
      snaps.base = { ...baseSnap, snapId, modes: [...essentialModes], defaultChannel: 'latest/stable' };
    }
  } else {
    snaps = {
      snapd: null,
      base: baseSnap,
      kernel: checkSnapWithTrack(h, 'kernel'),
      gadget: checkSnapWithTrack(h, 'gadget'),
      others: [],
    };
    for (const name of checkStringList(h, 'required-snaps')) {
      if (!isValidSnapName(name)) throw invalid(`invalid snap name in "required-snaps" header: ${name}`);
      snaps.others.push(requiredSnap(name, ''));
    }
  }

  const serialAuthority = checkOptionalAuthority(h, 'serial-authority', brandId, false) as string[];
  const systemUserAuthority = checkOptionalAuthority(h, 'system-user-authority', brandId, true);
  const preseedAuthority = checkOptionalAuthority(h, 'preseed-authority', brandId, false) as string[];
  const timestamp = checkRFC3339Date(h, 'timestamp');
  const essential = [snaps.snapd, snaps.kernel, snaps.base, snaps.gadget].filter((s): s is ModelSnap => s !== null);
  const validationSets = checkValidationSets(h, brandId);

  return {
    type: 'model',
    series: checkExistsString(h, 'series'),
    brandId,
    model,
    displayName: displayName || model,
    architecture: checkOptionalString(h, 'architecture'),
    classic,
    distribution: checkOptionalString(h, 'distribution'),
    base,
    store,
    grade,
    storageSafety,
    baseSnap: snaps.base,
    gadgetSnap: snaps.gadget,
    kernelSnap: snaps.kernel,
    allSnaps: [...essential, ...snaps.others],
    numEssentialSnaps: essential.length,
    validationSets,
    serialAuthority,
    systemUserAuthority,
    preseedAuthority,
    timestamp,
  };
}
