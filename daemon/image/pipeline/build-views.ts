import { CoreforgeError } from '../../errors.js';
import { mayUseChange, type Caller, type CallerErrorKind } from '../../caller/caller.js';
import type { ChangeEngine } from '../../changes/engine.js';
import type { ChangeInfo } from '../../changes/types.js';
import { imageError } from '../errors.js';
import type { ImageDigests } from './image-digests.js';
import type { BuildRepository, BuildRow } from './repository.js';

/**
 * Builds as their callers may see them: the build's row, its change, and
 * whether its image digests are still being computed. Only a build's owner
 * and root see it.
 */

export interface BuildView {
  row: BuildRow;
  change: ChangeInfo;
  /** The images' SHA-256 is being computed: their sha256 is null until then. */
  digestsPending: boolean;
}

export interface BuildViewDeps {
  builds: BuildRepository;
  engine: Pick<ChangeEngine, 'get'>;
  digests: Pick<ImageDigests, 'pendingNow'>;
}

/**
 * `pending` is taken before the row is read: a digest that ends in between
 * then shows as still pending (the client asks again), never as done with
 * its sha256 missing.
 */
async function view(deps: BuildViewDeps, row: BuildRow, pending: ReadonlySet<string>): Promise<BuildView> {
  return { row, change: await deps.engine.get(row.change), digestsPending: pending.has(row.id) };
}

/** The builds `caller` may see, oldest first. */
export async function listBuilds(deps: BuildViewDeps, caller: Caller): Promise<BuildView[]> {
  const pending = deps.digests.pendingNow();
  const rows = (await deps.builds.list()).filter((r) => mayUseChange(caller, r.owner?.uid ?? null));
  return Promise.all(rows.map((r) => view(deps, r, pending)));
}

/** One build, if `caller` may see it; throws build-not-found or not-owner. */
export async function showBuild(deps: BuildViewDeps, caller: Caller, id: string): Promise<BuildView> {
  const pending = deps.digests.pendingNow();
  const row = await deps.builds.get(id);
  if (row && !mayUseChange(caller, row.owner?.uid ?? null)) {
    throw new CoreforgeError<CallerErrorKind>('not-owner', `cannot show build ${id}: it was started by uid ${row.owner?.uid ?? 0}, not by you (uid ${caller.uid}); only its owner and root may see it`);
  }
  if (!row) throw imageError('build-not-found', `cannot find build ${JSON.stringify(id)}: no build has that id; list builds with "coreforge builds"`);
  return view(deps, row, pending);
}
