/**
 * Where a build gets its snaps. Local `.snap` files today; a store source
 * (configured store, local store) implements the same interface later.
 */
import type { SnapInfo } from '../../snap/snap-yaml.js';

/** What meta/snap.yaml says, as far as seeding cares (kept in the build's saved state). */
export type SnapYamlInfo = Pick<SnapInfo, 'name' | 'version' | 'type' | 'architectures' | 'base'>;

/** A snap ready to seed: its file, its metadata, and its assertions when it has any. */
export interface SourcedSnap {
  /** The file the build reads (a local snap's copy in the work dir, or the store cache's). */
  path: string;
  /** A local snap: the path the request named, for messages and build.json. */
  origin?: string;
  info: SnapYamlInfo;
  /** "x1" for an unasserted local snap, else the store revision. */
  revision: string;
  /** '' when unasserted. */
  snapId: string;
  /** SHA3-384, base64url (snapd's snap-sha3-384); '' for an unasserted local snap (snapd has none for those). */
  sha3_384: string;
  /** Unasserted local snap: its size and a digest of its head, the content's identity for the image's ids. */
  identity?: string;
  /** SHA-256, hex, of an unasserted local snap, for build.json: set by the finish step (see unassertedSnapSha256). */
  sha256?: string;
  size: number;
  /** snap-declaration and snap-revision texts (and, for store snaps, their prerequisites); empty when unasserted. */
  assertions: string[];
  /** Fetched from a store: bytes downloaded for it in the build that fetched it (0: from the cache). */
  downloaded?: number;
}

/** A source of snaps by name; `undefined` when it has none of that name. */
export interface SnapSource {
  /** Human name for messages ("local files", "the store"). */
  readonly label: string;
  find(name: string, channel: string, signal?: AbortSignal): Promise<SourcedSnap | undefined>;
}

/** A snap fetched from a store: a SourcedSnap plus what the seed and the report need. */
export interface StoreSnap extends SourcedSnap {
  /** account-keys and accounts below the trusted roots that the snap's assertions need */
  prerequisites: string[];
  /** bytes fetched over the network (0 when it came from the cache) */
  downloaded: number;
}

/** A store for one device architecture (daemon/store/client/snap-source.ts StoreSnapSource). */
export interface StoreSnapFinder {
  readonly label: string;
  /** The embedded local store (snaps get there with `coreforge store add`), not a remote one. */
  readonly local?: boolean;
  fetch(
    name: string,
    channel: string,
    options: { revision?: number; signal?: AbortSignal; progress?: (done: number, total: number) => void },
  ): Promise<StoreSnap | undefined>;
}
