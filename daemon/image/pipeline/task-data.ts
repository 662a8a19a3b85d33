import { isAbsolute } from 'node:path';
import { CoreforgeError } from '../../errors.js';
import { buildStepNames, type BuildParams, type BuildStepName } from './params.js';

/**
 * The data a build change and its tasks keep in state.db, checked where it
 * is read (when a change is made, and when a daemon picks it up after a
 * restart) instead of cast: a change stored by another coreforged version,
 * or an edited state.db, fails with the field at fault instead of building
 * something nobody asked for.
 */

/** What one build task stores: its step, and whether it is the build's first. */
export interface BuildTaskData {
  step: BuildStepName;
  /** The first step of the change: a new build there replaces what an earlier one left at the same places. */
  first: boolean;
}

/** What a build change stores in its data (plain JSON, no secrets). */
export interface BuildChangeData {
  /** The build's parameters without the first-boot and cloud-init texts (see `secrets`). */
  params: BuildParams;
  resume: boolean;
  /** The vault token of {firstBoot, cloudInit}: texts that may hold network passwords stay in memory. */
  secrets?: string;
}

/** Task or change data that is not what this coreforged stores. */
export class BadTaskDataError extends CoreforgeError<'bad-task-data'> {
  constructor(what: string, field: string, expected: string, got: unknown) {
    super(
      'bad-task-data',
      `cannot use the ${what} data: "${field}" is ${shown(got)}, expected ${expected}; this coreforged did not store it (another version, or an edited state.db): start the build again`,
      { field },
    );
  }
}

function shown(value: unknown): string {
  if (value === undefined) return 'missing';
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

type Fields = Record<string, unknown>;

/** Reads the fields of one JSON object of the data, each checked once. */
class Reader {
  constructor(
    private readonly what: string,
    private readonly at: string,
    private readonly fields: Fields,
  ) {}

  static of(what: string, at: string, value: unknown): Reader {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new BadTaskDataError(what, at || 'data', 'an object', value);
    return new Reader(what, at, value as Fields);
  }

  private fail(key: string, expected: string): never {
    throw new BadTaskDataError(this.what, this.at === '' ? key : `${this.at}.${key}`, expected, this.fields[key]);
  }

  has(key: string): boolean {
    return this.fields[key] !== undefined;
  }

  /** Refuses fields other than `known`: they would go unread, and into the build's fingerprint and report. */
  only(known: readonly string[]): void {
    for (const key of Object.keys(this.fields)) if (!known.includes(key)) this.fail(key, `no such field (the fields are ${known.join(', ')})`);
  }

  /** Refuses a field that must never be stored here. */
  absent(key: string, why: string): void {
    if (this.has(key)) this.fail(key, `no such field (${why})`);
  }

  string(key: string): string {
    const v = this.fields[key];
    if (typeof v !== 'string') this.fail(key, 'a string');
    return v;
  }

  path(key: string): string {
    const v = this.fields[key];
    if (typeof v !== 'string' || !isAbsolute(v)) this.fail(key, 'an absolute path');
    return v;
  }

  boolean(key: string): boolean {
    const v = this.fields[key];
    if (typeof v !== 'boolean') this.fail(key, 'true or false');
    return v;
  }

  oneOf<T extends string | number>(key: string, values: readonly T[]): T {
    const v = this.fields[key];
    if (!values.includes(v as T)) this.fail(key, `one of ${values.join(', ')}`);
    return v as T;
  }

  list<T>(key: string, expected: string, item: (value: unknown) => T | undefined): T[] {
    const v = this.fields[key];
    const items = Array.isArray(v) ? v.map(item) : undefined;
    if (!items || items.some((i) => i === undefined)) this.fail(key, expected);
    return items as T[];
  }

  record<T>(key: string, expected: string, item: (value: unknown) => T | undefined): Record<string, T> {
    const v = this.fields[key];
    if (v === null || typeof v !== 'object' || Array.isArray(v)) this.fail(key, expected);
    const out: Record<string, T> = {};
    for (const [k, value] of Object.entries(v as Fields)) {
      const i = item(value);
      if (i === undefined) this.fail(key, expected);
      out[k] = i;
    }
    return out;
  }

  /** A field the build reads as a number or as a map of numbers (an image size for all volumes, or per volume). */
  sizes(key: string): number | Record<string, number> {
    const v = this.fields[key];
    return typeof v === 'number' && size(v) !== undefined ? v : this.record(key, 'a size in bytes, or a map of volume names to sizes in bytes', size);
  }
}

const size = (v: unknown): number | undefined => (Number.isSafeInteger(v) && (v as number) >= 0 ? (v as number) : undefined);
const revision = (v: unknown): number | undefined => (Number.isSafeInteger(v) && (v as number) > 0 ? (v as number) : undefined);
const absolutePath = (v: unknown): string | undefined => (typeof v === 'string' && isAbsolute(v) ? v : undefined);
function storeSnap(v: unknown): { name: string; channel: string } | undefined {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined;
  const { name, channel, ...rest } = v as Fields;
  return typeof name === 'string' && typeof channel === 'string' && Object.keys(rest).length === 0 ? { name, channel } : undefined;
}

const paramFields = [
  'model', 'modelSource', 'snaps', 'storeSnaps', 'revisions', 'channel', 'outputDir', 'imageName', 'workDir', 'imageSize', 'sectorSize', 'validation', 'disableConsoleConf',
] as const;

function parseParams(r: Reader): BuildParams {
  r.absent('firstBoot', 'the first-boot text is held in memory only, never stored');
  r.absent('cloudInit', 'the cloud-init text is held in memory only, never stored');
  r.only(paramFields);
  return {
    model: r.string('model'),
    modelSource: r.string('modelSource'),
    snaps: r.list('snaps', 'a list of absolute .snap paths', absolutePath),
    ...(r.has('storeSnaps') ? { storeSnaps: r.list('storeSnaps', 'a list of {name, channel}', storeSnap) } : {}),
    ...(r.has('revisions') ? { revisions: r.record('revisions', 'a map of snap names to positive revisions', revision) } : {}),
    channel: r.string('channel'),
    outputDir: r.path('outputDir'),
    ...(r.has('imageName') ? { imageName: r.string('imageName') } : {}),
    ...(r.has('workDir') ? { workDir: r.path('workDir') } : {}),
    ...(r.has('imageSize') ? { imageSize: r.sizes('imageSize') } : {}),
    sectorSize: r.oneOf('sectorSize', [512, 4096] as const),
    validation: r.oneOf('validation', ['ignore', 'enforce'] as const),
    disableConsoleConf: r.boolean('disableConsoleConf'),
  };
}

/** Checks a build task's data: the step it runs and whether it is the first. */
export function parseBuildTaskData(data: unknown): BuildTaskData {
  const r = Reader.of('build task', '', data);
  r.only(['step', 'first']);
  return { step: r.oneOf('step', buildStepNames), first: r.boolean('first') };
}

/** Checks a build change's data: the build's parameters, --resume, and the token of its secrets. */
export function parseBuildChangeData(data: unknown): BuildChangeData {
  const r = Reader.of('build change', '', data);
  r.only(['params', 'resume', 'secrets']);
  const params = parseParams(Reader.of('build change', 'params', (data as Fields).params));
  return { params, resume: r.boolean('resume'), ...(r.has('secrets') ? { secrets: r.string('secrets') } : {}) };
}
