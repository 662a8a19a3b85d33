// The store as a source of snaps for image builds: structurally the
// SnapSource of daemon/image/build/snap-source.ts (not imported: daemon/store
// stays free of the image pipeline), resolving by name and channel for one
// architecture, downloading into the cache and giving the snap's assertions.
import { decodeAssertion, encodeAssertion } from '../../asserts/index.js';
import { isCoreforgeError } from '../../errors.js';
import { execProgram, readSnapMeta, type RunProgram } from '../snap-file.js';
import type { StoreClient } from './client.js';
import type { DownloadProgress } from './download.js';

/** A downloaded store snap in the build pipeline's SourcedSnap shape. */
export interface StoreSourcedSnap {
  path: string;
  info: { name: string; version: string; type: string; architectures: string[]; base: string };
  revision: string;
  snapId: string;
  sha3_384: string;
  size: number;
  /** snap-declaration and snap-revision texts */
  assertions: string[];
}

/** Snaps from a store (remote or the local store's server) for one device architecture. */
export class StoreSnapSource {
  readonly label: string;

  constructor(
    private readonly client: StoreClient,
    private readonly architecture: string,
    private readonly options: { label?: string; run?: RunProgram; progress?: (name: string) => DownloadProgress } = {},
  ) {
    this.label = options.label ?? 'the store';
  }

  /** The snap of that name in that channel, downloaded; undefined when the store has no such snap. */
  async find(name: string, channel: string, signal?: AbortSignal): Promise<StoreSourcedSnap | undefined> {
    let snap;
    try {
      snap = await this.client.resolve(name, channel, this.architecture);
    } catch (err) {
      if (isCoreforgeError(err) && err.kind === 'snap-not-found') return undefined;
      throw err;
    }
    const got = await this.client.download(snap, { ...(signal ? { signal } : {}), ...(this.options.progress ? { progress: this.options.progress(name) } : {}) });
    const decl = await this.client.assertion('snap-declaration', ['16', snap['snap-id']]);
    const meta = await readSnapMeta(got.path, this.options.run ?? execProgram);
    return {
      path: got.path,
      info: { name: meta.name, version: meta.version, type: meta.type, architectures: meta.architectures, base: meta.base ?? '' },
      revision: String(snap.revision),
      snapId: snap['snap-id'],
      sha3_384: snap['sha3-384'],
      size: snap.size,
      assertions: [encodeAssertion(decodeAssertion(decl)), encodeAssertion(got.revision)],
    };
  }
}
