import { join } from 'node:path';
import { afterEach, beforeEach } from 'node:test';
import { ChangeEngine } from '../../daemon/changes/engine.js';
import { ChangeRepository } from '../../daemon/changes/repository.js';
import type { ChangeInfo } from '../../daemon/changes/types.js';
import { Database } from '../../daemon/db/database.js';
import { migrate } from '../../daemon/db/migrations.js';
import { silentLogger } from '../../daemon/log.js';
import { makeTempDir } from './tmp.js';

/**
 * A fresh change engine on a real state.db for each test of a describe block
 * (beforeEach/afterEach), plus a helper that waits for a change to be ready.
 */
export function useEngine(): { engine(): ChangeEngine; db(): Database; waitReady(id: string): Promise<ChangeInfo> } {
  let db: Database;
  let engine: ChangeEngine;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    const tmp = await makeTempDir();
    cleanup = tmp.cleanup;
    db = await Database.open(join(tmp.dir, 'state.db'));
    await migrate(db);
    engine = new ChangeEngine(new ChangeRepository(db), silentLogger);
  });
  afterEach(async () => {
    await engine.stop(1000);
    await db.close();
    await cleanup();
  });
  return {
    engine: () => engine,
    db: () => db,
    waitReady: async (id) => {
      for (;;) {
        const c = await engine.get(id);
        if (c.ready) return c;
        await new Promise((r) => setTimeout(r, 10));
      }
    },
  };
}
