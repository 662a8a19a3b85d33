/**
 * Where a build gets its snaps. Local `.snap` files today; a store source
 * (configured store, local store) implements the same interface later.
 */

/** What meta/snap.yaml says, as far as seeding cares. */
export interface SnapYamlInfo {
  name: string;
  version: string;
  /** app, gadget, kernel, base, os, snapd. */
  type: string;
  architectures: string[];
  /** '' when none. */
  base: string;
}

/** A snap ready to seed: its file, its metadata, and its assertions when it has any. */
export interface SourcedSnap {
  path: string;
  info: SnapYamlInfo;
  /** "x1" for an unasserted local snap, else the store revision. */
  revision: string;
  /** '' when unasserted. */
  snapId: string;
  /** SHA3-384, base64url (snapd's snap-sha3-384). */
  sha3_384: string;
  size: number;
  /** snap-declaration and snap-revision texts; empty when unasserted. */
  assertions: string[];
}

/** A source of snaps by name; `undefined` when it has none of that name. */
export interface SnapSource {
  /** Human name for messages ("local files", "the store"). */
  readonly label: string;
  find(name: string, channel: string, signal?: AbortSignal): Promise<SourcedSnap | undefined>;
}
