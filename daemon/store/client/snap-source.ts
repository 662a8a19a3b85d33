// The store as a source of snaps for image builds: structurally the
// SnapSource of daemon/image/pipeline/snap-source.ts (not imported: daemon/store
// stays free of the image pipeline), resolving by name and channel (or
// revision) for one architecture, downloading into the cache and giving the
// snap's assertions with the prerequisites a seed needs.
import { decodeAssertion, encodeAssertion, type Assertion } from '../../asserts/index.js';
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
  /**
   * What the seed needs to check those below its trusted roots: the
   * account-keys that sign them and the accounts they name (store, publisher,
   * developer), each once.
   */
  prerequisites: string[];
  /** bytes fetched over the network for this snap (0 when it was in the cache) */
  downloaded: number;
  /** the channel the store resolved ('' when asked by revision) */
  channel: string;
}

export interface StoreFetchOptions {
  /** a pinned revision (`--revision NAME:REV`) instead of the channel */
  revision?: number;
  signal?: AbortSignal;
  progress?: DownloadProgress;
}

/** Snaps from a store (remote or the local store's server) for one device architecture. */
export class StoreSnapSource {
  readonly label: string;
  readonly local: boolean;

  constructor(
    private readonly client: StoreClient,
    private readonly architecture: string,
    private readonly options: {
      label?: string;
      /** it is the embedded local store */
      local?: boolean;
      run?: RunProgram;
      progress?: (name: string) => DownloadProgress;
      /** assertions the caller already trusts or holds (not fetched as prerequisites) */
      known?: (type: string, key: string) => boolean;
    } = {},
  ) {
    this.label = options.label ?? 'the store';
    this.local = options.local === true;
  }

  /** The snap of that name in that channel, downloaded; undefined when the store has no such snap. */
  async find(name: string, channel: string, signal?: AbortSignal): Promise<StoreSourcedSnap | undefined> {
    return this.fetch(name, channel, { ...(signal ? { signal } : {}) });
  }

  /** As find, with a pinned revision and per-call progress. */
  async fetch(name: string, channel: string, o: StoreFetchOptions = {}): Promise<StoreSourcedSnap | undefined> {
    let snap;
    try {
      snap = await this.client.resolve(name, channel, this.architecture, o.revision);
    } catch (err) {
      if (isCoreforgeError(err) && err.kind === 'snap-not-found') return undefined;
      throw err;
    }
    const progress = o.progress ?? this.options.progress?.(name);
    const got = await this.client.download(snap, { ...(o.signal ? { signal: o.signal } : {}), ...(progress ? { progress } : {}) });
    const known = this.options.known ?? (() => false);
    const all = await this.client.snapAssertions(snap, known);
    const decl = all.find((a) => a.type === 'snap-declaration')!;
    const rest = all.filter((a) => a.type !== 'snap-declaration' && a.type !== 'snap-revision');
    // snapd's prerequisites of snap-declaration and snap-revision: the publisher's and the developer's accounts
    const have = new Set(rest.map((a) => `${a.type}/${a.type === 'account' ? String(a.headers['account-id']) : String(a.headers['public-key-sha3-384'])}`));
    for (const id of [decl.headers['publisher-id'], got.revision.headers['developer-id']]) {
      if (typeof id !== 'string' || have.has(`account/${id}`) || known('account', id)) continue;
      have.add(`account/${id}`);
      rest.push(decodeAssertion(await this.client.assertion('account', [id])));
    }
    const meta = await readSnapMeta(got.path, this.options.run ?? execProgram);
    return {
      path: got.path,
      info: { name: meta.name, version: meta.version, type: meta.type, architectures: meta.architectures, base: meta.base },
      revision: String(snap.revision),
      snapId: snap['snap-id'],
      sha3_384: snap['sha3-384'],
      size: snap.size,
      assertions: [encodeAssertion(decl), encodeAssertion(got.revision)],
      prerequisites: rest.map((a: Assertion) => encodeAssertion(a)),
      downloaded: got.downloaded,
      channel: o.revision !== undefined ? '' : snap.channel,
    };
  }
}
