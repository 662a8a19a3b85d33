import { join } from 'node:path';
import { afterEach, beforeEach } from 'node:test';
import { ChangeEngine } from '../../daemon/changes/engine.js';
import { ChangeRepository } from '../../daemon/changes/repository.js';
import { type ChangeInfo, isReady } from '../../daemon/changes/types.js';
import { Database } from '../../daemon/db/database.js';
import { migrate } from '../../daemon/db/migrations.js';
import { silentLogger } from '../../daemon/log.js';
import { ManualClock } from './clock.js';
import { makeTempDir } from './tmp.js';

/**
 * A fresh change engine on a real state.db for each test of a describe block
 * (beforeEach/afterEach), on a manual clock the test moves, plus a helper that
 * waits for a change to be ready (from the engine's own status events).
 */
export function useEngine(): { engine(): ChangeEngine; db(): Database; clock(): ManualClock; waitReady(id: string): Promise<ChangeInfo> } {
  let db: Database;
  let engine: ChangeEngine;
  let clock: ManualClock;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    const tmp = await makeTempDir();
    cleanup = tmp.cleanup;
    db = await Database.open(join(tmp.dir, 'state.db'));
    await migrate(db);
    clock = new ManualClock(Date.parse('2026-01-01T00:00:00Z'));
    engine = new ChangeEngine(new ChangeRepository(db), silentLogger, clock);
  });
  afterEach(async () => {
    await engine.stop(1000);
    await db.close();
    await cleanup();
  });
  return {
    engine: () => engine,
    db: () => db,
    clock: () => clock,
    waitReady: (id) =>
      new Promise<ChangeInfo>((resolve, reject) => {
        const off = engine.onStatus((e) => {
          if (e.change !== id || !isReady(e.status)) return;
          off();
          engine.get(id).then(resolve, reject);
        });
        // It may be over already.
        engine.get(id).then((c) => {
          if (!c.ready) return;
          off();
          resolve(c);
        }, reject);
      }),
  };
}
