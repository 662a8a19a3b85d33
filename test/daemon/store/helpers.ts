// Shared set-up for the store tests: a migrated state.db, the local store with
// two RSA-4096 keys generated once per test file, fixture snaps.
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { join } from 'node:path';
import { Database } from '../../../daemon/db/database.js';
import { migrate } from '../../../daemon/db/migrations.js';
import { LocalStore } from '../../../daemon/store/local/store.js';
import { buildAllFixtures, type BuiltFixture } from '../../fixtures/snaps.js';

let pool: Promise<KeyObject[]> | undefined;

/** Two RSA-4096 keys (root, store) made once per test process and reused by every store in it. */
export function storeKeys(): Promise<KeyObject[]> {
  pool ??= Promise.resolve([0, 1].map(() => generateKeyPairSync('rsa', { modulusLength: 4096 }).privateKey));
  return pool;
}

/** A fresh state.db and local store in `dir`, signing with the shared keys. */
export async function openLocalStore(dir: string, now?: () => Date): Promise<{ db: Database; store: LocalStore }> {
  const db = await Database.open(join(dir, 'state.db'));
  await migrate(db);
  const keys = [...(await storeKeys())];
  const store = new LocalStore({ db, dir: join(dir, 'store'), generateKey: async () => keys.shift()!, ...(now ? { now } : {}) });
  return { db, store };
}

/** The fixture snaps the store tests use, built (or taken from the fixture cache) into `dir`. */
export function storeFixtures(dir: string): Promise<Record<string, BuiltFixture>> {
  return buildAllFixtures(dir, {
    ids: ['hello-coreforge-amd64', 'hello-coreforge-armhf', 'pc-kernel-18', 'bad-not-squashfs', 'bad-no-snap-yaml', 'bad-snap-yaml-syntax', 'bad-snap-yaml-fields'],
  });
}
