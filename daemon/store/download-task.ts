import { encodeAssertion } from '../asserts/index.js';
import type { ChangeEngine, TaskKind } from '../changes/engine.js';
import { dataObject, stringField } from '../changes/task-data.js';
import type { ChangeOwner } from '../changes/types.js';
import type { StoreClient } from './client/client.js';

/** Task kind name of a store download, as `coreforge changes` shows it. */
export const storeDownloadTaskKind = 'store-download';

/** What a store download keeps in state.db: which snap, from which channel, for which architecture. */
export interface StoreDownloadData {
  name: string;
  channel: string;
  architecture: string;
}

/** Result of the store-download task. */
export interface StoreDownloadResult {
  name: string;
  'snap-id': string;
  revision: number;
  'sha3-384': string;
  size: number;
  path: string;
  /** bytes fetched over the network (0 when it came from the cache) */
  downloaded: number;
  /** the snap's assertions, ready to write beside it as NAME_REV.assert */
  assertions: string;
}

/** Checks a store download's data (the store checks the name and channel when it resolves them). */
export function parseStoreDownloadData(data: unknown): StoreDownloadData {
  const d = dataObject(data);
  return { name: stringField(d, 'name'), channel: stringField(d, 'channel'), architecture: stringField(d, 'architecture') };
}

/** The store download task: resolve, fetch assertions, download into the cache with progress. */
export function storeDownloadTask(store: StoreClient, trustedKey: (id: string) => boolean): TaskKind<StoreDownloadData> {
  return {
    name: storeDownloadTaskKind,
    concurrency: 4,
    parseData: parseStoreDownloadData,
    async run(ctx): Promise<StoreDownloadResult> {
      const { name, channel, architecture: arch } = ctx.data;
      const snap = await store.resolve(name, channel, arch);
      ctx.log('info', `resolved ${name} ${channel} ${arch} to revision ${snap.revision}`);
      const got = await store.download(snap, { progress: (done, total) => ctx.progress('downloading', done, total), signal: ctx.signal });
      const asserts = await store.snapAssertions(snap, (type, k) => type === 'account-key' && trustedKey(k));
      ctx.log('info', got.cached ? `found ${name} revision ${snap.revision} in the cache` : `downloaded ${got.downloaded} bytes`);
      return {
        name,
        'snap-id': snap['snap-id'],
        revision: snap.revision,
        'sha3-384': snap['sha3-384'],
        size: snap.size,
        path: got.path,
        downloaded: got.downloaded,
        assertions: asserts.map(encodeAssertion).join('\n'),
      };
    },
  };
}

/** Starts downloading a snap into the cache as a change owned by `owner`; returns the change id. */
export function startStoreDownload(engine: Pick<ChangeEngine, 'create'>, owner: ChangeOwner, request: StoreDownloadData): Promise<string> {
  const { name, channel, architecture } = request;
  return engine.create({
    owner,
    kind: storeDownloadTaskKind,
    summary: `Download snap ${JSON.stringify(name)} (${channel}, ${architecture})`,
    data: request,
    tasks: [{ kind: storeDownloadTaskKind, summary: `Download ${name} from ${channel}`, data: request }],
  });
}
