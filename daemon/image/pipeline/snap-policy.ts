import { basename } from 'node:path';
import { checkChain, decodeAssertion, type ModelInfo } from '../../asserts/index.js';
import { isCoreforgeError } from '../../errors.js';
import { imageError } from '../errors.js';
import type { ModelLookups } from './model.js';
import { resolveSeedSnaps, type PlannedSnap, type SeedPlan } from './resolve.js';
import { checkSeedSnaps, unassertedWarning } from './snap-checks.js';
import type { SourcedSnap, StoreSnapFinder } from './snap-source.js';
import { fetchStoreSnaps, lookupsWith } from './store-snaps.js';

/**
 * The one place that decides which snap satisfies which entry of a model's
 * seed: the plan (resolve.ts: which snaps, which channels) is filled first
 * from the local files the request named, then, for what they leave out,
 * from the configured store (by channel, or by a pinned revision, which only
 * a store snap can have). Every snap chosen must then be what its entry
 * asks for: type, architecture and base (snap-checks.ts), the snap-id the
 * model names, a kernel or gadget by the brand (or canonical, or the
 * store's own account), and assertions that chain to a trusted root.
 */

export interface SeedChoiceInput {
  model: ModelInfo;
  /** The model's prerequisites (encoded): the seed holds them already. */
  inSeed: string[];
  /** The local snap files, read (read-snaps). */
  local: SourcedSnap[];
  /** Snaps asked for by name (`--snap NAME[=CHANNEL]`). */
  storeSnaps: { name: string; channel: string }[];
  /** The global `-c` channel; '' when not given. */
  channel: string;
  /** `--revision NAME:REV` pins. */
  revisions: Record<string, number>;
  lookups: ModelLookups;
  /** The store for the model's architecture; undefined: local files only. */
  store: StoreSnapFinder | undefined;
  signal?: AbortSignal;
  progress(phase: string, bytes: number, total: number): void;
  log(level: 'info' | 'warn', message: string): void;
  /** A warning for the build's report (each said once). */
  warn(message: string): void;
}

/** One snap of the seed: the plan's entry and the file that satisfies it. */
export interface SeedEntry {
  planned: PlannedSnap;
  sourced: SourcedSnap;
}

/** The plan's snaps and channels for the model and what the request asked for (local files come with no channel). */
function planFor(input: SeedChoiceInput): SeedPlan {
  return resolveSeedSnaps(input.model, {
    channel: input.channel,
    snaps: [
      ...input.local.map((s) => ({ name: s.info.name, channel: '', unasserted: s.snapId === '' })),
      ...input.storeSnaps.map((o) => ({ name: o.name, channel: o.channel, unasserted: false })),
    ],
  });
}

/** A pinned revision names a store snap of the plan; each pin gets ubuntu-image's warning. */
function checkPins(plan: SeedPlan, localNames: ReadonlySet<string>, revisions: Record<string, number>, warn: (message: string) => void): void {
  for (const name of Object.keys(revisions)) {
    if (localNames.has(name)) throw imageError('invalid-snap-set', `cannot use --revision ${name}:${revisions[name]}: snap "${name}" is a local file; leave out --revision or the local --snap`);
    if (!plan.snaps.some((p) => p.name === name)) throw imageError('invalid-snap-set', `cannot use --revision ${name}:${revisions[name]}: snap "${name}" is not in the model nor asked for with --snap; add --snap ${name} or drop the revision`);
    // ubuntu-image's warning for each pinned revision, word for word
    warn(`WARNING: revision ${revisions[name]} for snap ${name} may not be the latest available version!`);
  }
}

/** A snap with a snap-id must be the one the model names. */
function checkSnapIds(plan: SeedPlan, byName: ReadonlyMap<string, SourcedSnap>): void {
  for (const p of plan.snaps) {
    const s = byName.get(p.name)!;
    if (p.snapId !== '' && s.snapId !== '' && p.snapId !== s.snapId) {
      throw imageError('invalid-snap', `cannot use snap "${p.name}" from ${basename(s.path)}: its snap-id ${s.snapId} is not the snap-id ${p.snapId} the model names; use the snap the model was made for`);
    }
  }
}

/** The kernel and gadget come from the brand (or canonical, or the store's own account); every assertion chains to a trusted root. */
async function checkProvenance(model: ModelInfo, sourced: readonly SourcedSnap[], lookups: ModelLookups): Promise<void> {
  for (const s of sourced) {
    const decl = s.assertions.map((t) => decodeAssertion(t)).find((a) => a.type === 'snap-declaration');
    const publisher = decl?.headers['publisher-id'];
    // the store's own account publishes like canonical does in Canonical's store (the local store's account)
    if ((s.info.type === 'kernel' || s.info.type === 'gadget') && publisher !== undefined && publisher !== model.brandId && publisher !== 'canonical' && publisher !== decl?.authorityId) {
      throw imageError('invalid-snap', `cannot use ${s.info.type} "${s.info.name}" published by "${String(publisher)}" for model by "${model.brandId}"`);
    }
    for (const text of s.assertions) {
      try {
        await checkChain(decodeAssertion(text), lookups);
      } catch (err) {
        const why = isCoreforgeError(err) ? err.message : String(err);
        throw imageError('invalid-snap', `cannot use the assertions of ${basename(s.path)}: ${why}; get the .assert from the snap's store`);
      }
    }
  }
}

/** Chooses the snap for each entry of the model's seed, fetching from the store what no local file provides; throws invalid-snap-set or invalid-snap. */
export async function chooseSeedSnaps(input: SeedChoiceInput): Promise<SeedEntry[]> {
  const plan = planFor(input);
  const sourced = [...input.local];
  const byName = new Map(sourced.map((s) => [s.info.name, s]));
  checkPins(plan, new Set(byName.keys()), input.revisions, input.warn);
  const fromStore = await fetchStoreSnaps({
    model: input.model.model,
    planned: plan.snaps.filter((p) => !byName.has(p.name)),
    revisions: input.revisions,
    inSeed: input.inSeed,
    store: input.store,
    ...(input.signal ? { signal: input.signal } : {}),
    progress: input.progress,
    log: input.log,
  });
  for (const s of fromStore) {
    sourced.push(s);
    byName.set(s.info.name, s);
  }
  checkSeedSnaps(input.model, plan.snaps, new Map(sourced.map((s) => [s.info.name, s.info])));
  checkSnapIds(plan, byName);
  await checkProvenance(input.model, sourced, lookupsWith(input.lookups, fromStore.flatMap((s) => s.assertions)));
  const seed = plan.snaps.map((p) => ({ planned: p, sourced: byName.get(p.name)! }));
  const warning = unassertedWarning(seed.filter((s) => s.sourced.snapId === '').map((s) => s.sourced.info.name));
  if (warning) input.warn(warning);
  return seed;
}
