/** Creating the owner once: one console at a time, whichever backend is in use. */
import type { FetchFn } from './http-get.js';
import type { Backend } from './config.js';
import { ccError } from './errors.js';
import { withLocks } from './fs-edge.js';
import { describeOrigin, type IdentitySpec } from './identity-spec.js';
import { resolveIdentity, type KeySourceUrls } from './key-sources.js';
import { readMarker, type Owner } from './marker.js';
import { PATHS, underRoot } from './paths.js';
import { createUserDirect } from './users-direct.js';
import { createUserSnapd, type SnapdClient } from './users-snapd.js';

export interface OwnerDeps {
  root: string;
  backend: Backend;
  urls: KeySourceUrls;
  fetch?: FetchFn;
  snapd?: SnapdClient;
  now?: () => Date;
}

/** The result: the owner, and whether this process created it (false: another console won). */
export interface OwnerResult {
  owner: Owner;
  created: boolean;
}

/** Looks the identity up, validates it and creates the user, unless another console already did. */
export async function createOwner(deps: OwnerDeps, spec: IdentitySpec, username?: string): Promise<OwnerResult> {
  const lock = underRoot(deps.root, PATHS.runLock);
  return withLocks(
    [lock],
    async () => {
      const existing = await readMarker(deps.root);
      if (existing) return { owner: existing, created: false };
      if (deps.backend === 'snapd') {
        if (spec.source !== 'store') {
          throw ccError('unsupported', `cannot use ${describeOrigin(spec)} with the snapd backend: snapd creates users from store accounts only; type an email or set "backend: direct" in the config`);
        }
        if (username !== undefined) {
          throw ccError('unsupported', `cannot choose the username "${username}" with the snapd backend: snapd takes it from the store account; remove "username" or set "backend: direct"`);
        }
        if (!deps.snapd) throw ccError('unsupported', 'cannot use the snapd backend: no snapd socket was found; set "backend: direct" in the config');
        return { owner: await createUserSnapd(deps.root, deps.snapd, spec.email), created: true };
      }
      const identity = await resolveIdentity(spec, deps.urls, { fetch: deps.fetch, username });
      return { owner: await createUserDirect(deps.root, identity, { now: deps.now }), created: true };
    },
    600_000,
  );
}
