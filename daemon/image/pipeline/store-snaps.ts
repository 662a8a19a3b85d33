import { decodeAssertion, type Assertion } from '../../asserts/index.js';
import { imageError } from '../errors.js';
import type { ModelLookups } from './model.js';
import type { PlannedSnap } from './resolve.js';
import type { SourcedSnap, StoreSnapFinder } from './snap-source.js';
import { isValidSnapName } from '../../snap/name.js';

/**
 * The snaps of a build that no local file provides, fetched by name and
 * channel (or pinned revision) from the configured store into the cache,
 * with their assertions and the prerequisites the seed needs (each once,
 * leaving out those the model's own prerequisites already carry).
 */
export interface StoreFetchInput {
  model: string;
  planned: PlannedSnap[];
  /** `--revision NAME:REV` pins */
  revisions: Record<string, number>;
  /** encoded assertions the seed already holds (the model's prerequisites) */
  inSeed: string[];
  store: StoreSnapFinder | undefined;
  signal?: AbortSignal;
  progress(phase: string, bytes: number, total: number): void;
  log(level: 'info' | 'warn', message: string): void;
}

function which(p: PlannedSnap): string {
  return p.role === 'gadget' || p.role === 'kernel' ? `${p.role} "${p.name}"` : `snap "${p.name}"`;
}

/** Where a snap of the seed came from, so a user knows which input to fix: an option, or the model (and how). */
export function whereFrom(p: PlannedSnap, model: string): string {
  switch (p.origin) {
    case 'option':
      return 'asked for with --snap (or --extra-snaps)';
    case 'selected':
      return `an optional snap of model "${model}" selected with --snap`;
    case 'implicit':
      return p.role === 'core' ? `the core snap model "${model}" needs as it has no base` : `the snapd snap model "${model}" needs as it has a base`;
    default:
      if (p.role === 'base') return `the base of model "${model}"`;
      if (p.role === 'gadget' || p.role === 'kernel') return `the ${p.role} of model "${model}"`;
      return `required by model "${model}"`;
  }
}

/** How to get a snap into the local store, and the sample snaps a coreforge checkout makes. */
function localStoreHelp(p: PlannedSnap): string {
  return (
    `add it to the local store with "sudo coreforge store add FILE.snap --channel ${p.channel || 'stable'}" ` +
    '(a coreforge checkout makes sample snaps: "sudo bash sample-os/build" prints pc, pc-kernel, core18 and snapd for a UC18 pc model, ' +
    '"node --import tsx test/fixtures/build.ts DIR --good-only" writes small test snaps of every fixture model, the Pi 3 one included), ' +
    'or pass its .snap file with --snap PATH'
  );
}

export async function fetchStoreSnaps(input: StoreFetchInput): Promise<SourcedSnap[]> {
  const { store } = input;
  const have = new Set(input.inSeed);
  const out: SourcedSnap[] = [];
  let total = 0;
  for (const p of input.planned) {
    if (!store) {
      throw imageError(
        'invalid-snap-set',
        `cannot find ${which(p)} (channel ${p.channel}), ${whereFrom(p, input.model)}, among the local snap files, and no store is configured for builds; pass its .snap file with --snap PATH`,
      );
    }
    const revision = input.revisions[p.name];
    const phase = `fetch ${p.name}`;
    input.progress(phase, 0, 0);
    const got = await store.fetch(p.name, p.channel, {
      ...(revision !== undefined ? { revision } : {}),
      ...(input.signal ? { signal: input.signal } : {}),
      progress: (done, size) => input.progress(phase, done, size),
    });
    if (!got) {
      throw imageError(
        'invalid-snap-set',
        `cannot find ${which(p)} (channel ${p.channel}), ${whereFrom(p, input.model)}, in ${store.label} nor among the local snap files; ` +
          (store.local ? `check the name, or ${localStoreHelp(p)}` : 'check the name, add the snap to the store, or pass its .snap file with --snap PATH'),
      );
    }
    if (got.info.name !== p.name) {
      throw imageError('invalid-snap', `cannot use snap "${p.name}" from ${store.label}: its meta/snap.yaml names it "${got.info.name}"; fix the snap in the store`);
    }
    const prerequisites = got.prerequisites.filter((t) => !have.has(t));
    for (const t of prerequisites) have.add(t);
    total += got.downloaded;
    input.log(
      'info',
      `fetched ${p.name} revision ${got.revision} from ${store.label} (${revision !== undefined ? `revision ${revision}` : `channel ${p.channel}`}): ${got.downloaded === 0 ? 'in the cache, 0 bytes downloaded' : `${got.downloaded} bytes downloaded`}`,
    );
    const { prerequisites: _all, ...snap } = got;
    out.push({ ...snap, assertions: [...got.assertions, ...prerequisites] });
  }
  if (out.length > 0) input.log('info', `store downloads: ${total} bytes for ${out.length} snaps`);
  return out;
}

/** The lookups with the account-keys and accounts among `extra` added (the chain is still checked up to a trusted root). */
export function lookupsWith(base: ModelLookups, extra: readonly string[]): ModelLookups {
  const keys = new Map<string, Assertion>();
  const accounts = new Map<string, Assertion>();
  for (const text of extra) {
    const a = decodeAssertion(text);
    if (a.type === 'account-key') keys.set(String(a.headers['public-key-sha3-384']), a);
    if (a.type === 'account') accounts.set(String(a.headers['account-id']), a);
  }
  if (keys.size === 0 && accounts.size === 0) return base;
  const findAccount = base.findAccount;
  return {
    trusted: base.trusted,
    findAccountKey: async (k) => (await base.findAccountKey(k)) ?? keys.get(k),
    ...(findAccount ? { findAccount: async (k: string) => (await findAccount(k)) ?? accounts.get(k) } : {}),
  };
}

/** Parses `--revision NAME:REV` values (snapd's form). */
export function parseRevisions(values: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) {
    const m = /^([^:]*):([1-9][0-9]*)$/.exec(v);
    if (!m || !isValidSnapName(m[1]!)) throw imageError('invalid-snap-set', `cannot use --revision ${v}: it is not NAME:REVISION with a snap name and a positive revision number, like pi-kernel:42`);
    if (out[m[1]!] !== undefined) throw imageError('invalid-snap-set', `cannot use --revision ${v}: snap "${m[1]}" already has a revision`);
    out[m[1]!] = Number(m[2]);
  }
  return out;
}
