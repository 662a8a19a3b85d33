// The store download task kind run by the change engine on a real state.db,
// without express, against the store server over HTTP.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { daemonCaller } from '../../../daemon/caller/caller.js';
import type { ChangeEngine } from '../../../daemon/changes/engine.js';
import type { ProgressEvent } from '../../../daemon/changes/types.js';
import type { Database } from '../../../daemon/db/database.js';
import type { CoreforgeError } from '../../../daemon/errors.js';
import { StoreClient } from '../../../daemon/store/client/client.js';
import { parseStoreDownloadData, startStoreDownload, storeDownloadTask, type StoreDownloadResult } from '../../../daemon/store/download-task.js';
import type { LocalStore } from '../../../daemon/store/local/store.js';
import { listenStore, type RunningStoreServer } from '../../../daemon/store/server/listen.js';
import { fixtureSnapId } from '../../fixtures/models.js';
import type { BuiltFixture } from '../../fixtures/snaps.js';
import { useEngine } from '../../helpers/engine.js';
import { makeTempDir } from '../../helpers/tmp.js';
import { openLocalStore, storeFixtures } from './helpers.js';

describe('the store download task kind through the change engine', () => {
  const use = useEngine();
  let engine: ChangeEngine;
  let tmp: { dir: string; cleanup(): Promise<void> };
  let db: Database;
  let store: LocalStore;
  let server: RunningStoreServer;
  let fx: Record<string, BuiltFixture>;
  let root: string;
  let n = 0;

  before(async () => {
    tmp = await makeTempDir('coreforge-download-task-');
    [{ db, store }, fx] = await Promise.all([openLocalStore(tmp.dir), storeFixtures(join(tmp.dir, 'snaps'))]);
    server = await listenStore('127.0.0.1:0', { store, log: () => {} });
    await store.add(fx['hello-coreforge-amd64']!.path, 'latest/stable');
    root = (await store.identity()).rootAccountKey.headers['public-key-sha3-384'] as string;
  });
  after(async () => {
    await server.close();
    await db.close();
    await tmp.cleanup();
  });
  beforeEach(() => {
    engine = use.engine();
    // each test its own cache, so each download goes over the network
    const client = new StoreClient({ apiUrl: server.url, ssoUrl: server.url, dashboardUrl: server.url, credentialsPath: join(tmp.dir, 'creds.json'), cacheDir: join(tmp.dir, `cache-${n++}`) });
    engine.register(storeDownloadTask(client, (id) => id === root));
  });

  it('downloads a snap into the cache with progress, and returns it with its assertions up to the trusted root', async () => {
    const hello = fx['hello-coreforge-amd64']!;
    const events: ProgressEvent[] = [];
    engine.onProgress((e) => events.push(e));
    const id = await startStoreDownload(engine, daemonCaller, { name: 'hello-coreforge', channel: 'stable', architecture: 'amd64' });
    const change = await use.waitReady(id);
    assert.equal(change.status, 'Done', change.err);
    assert.equal(change.summary, 'Download snap "hello-coreforge" (stable, amd64)');
    const result = change.result as StoreDownloadResult;
    assert.deepEqual(
      [result.name, result['snap-id'], result.revision, result['sha3-384'], result.size, result.downloaded],
      ['hello-coreforge', fixtureSnapId('hello-coreforge'), 1, hello.sha3_384, hello.size, hello.size],
    );
    assert.deepEqual(await readFile(result.path), await readFile(hello.path));
    assert.deepEqual(
      result.assertions.split('\n\n').map((a) => /^type: (\S+)/.exec(a)?.[1]).filter(Boolean),
      ['snap-revision', 'account-key', 'account', 'snap-declaration'],
    );
    const last = events.filter((e) => e.change === id).at(-1);
    assert.deepEqual([last?.phase, last?.bytes, last?.total], ['downloading', hello.size, hello.size]);
  });

  it('ends in Error with the store kind when the snap has no revision for that architecture', async () => {
    const change = await use.waitReady(await startStoreDownload(engine, daemonCaller, { name: 'hello-coreforge', channel: 'stable', architecture: 's390x' }));
    assert.equal(change.status, 'Error');
    assert.equal(change['err-kind'], 'revision-not-found');
  });

  const bad: [string, unknown, string][] = [
    ['no name', { channel: 'stable', architecture: 'amd64' }, 'name'],
    ['an empty channel', { name: 'x', channel: '', architecture: 'amd64' }, 'channel'],
    ['an architecture that is a number', { name: 'x', channel: 'stable', architecture: 64 }, 'architecture'],
  ];
  for (const [name, data, field] of bad) {
    it(`refuses data with ${name}`, () => {
      assert.throws(() => parseStoreDownloadData(data), (err: CoreforgeError) => {
        assert.deepEqual([err.kind, err.message, err.details], ['bad-task-data', `"${field}" must be a non-empty string`, { field }]);
        return true;
      });
    });
  }
});
