import assert from 'node:assert/strict';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { Database } from '../../../daemon/db/database.js';
import { makeTempDir } from '../../helpers/tmp.js';

/** A promise the test resolves when it chooses. */
function latch(): { promise: Promise<void>; open(): void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

describe('state.db transactions on the one connection', () => {
  let db: Database;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    const tmp = await makeTempDir();
    cleanup = tmp.cleanup;
    db = await Database.open(join(tmp.dir, 'state.db'));
    await db.run('CREATE TABLE t (v TEXT)');
  });
  afterEach(async () => {
    await db.close();
    await cleanup();
  });
  const values = async () => (await db.all<{ v: string }>('SELECT v FROM t ORDER BY rowid')).map((r) => r.v);

  it('keeps a write another caller issues while a transaction is open when that transaction rolls back', async () => {
    const inside = latch();
    const fail = latch();
    const tx = db.transaction(async () => {
      await db.run("INSERT INTO t VALUES ('undone')");
      inside.open();
      await fail.promise;
      throw new Error('cannot finish: the test fails this transaction on purpose');
    });
    await inside.promise;
    // Another caller (a task's progress, say), outside the transaction's work.
    const read = db.all<{ v: string }>('SELECT v FROM t');
    const write = db.run("INSERT INTO t VALUES ('kept')");
    fail.open();
    await assert.rejects(tx, { message: 'cannot finish: the test fails this transaction on purpose' });
    assert.deepEqual(await read, [], 'a read from elsewhere never sees what the open transaction wrote');
    assert.equal((await write).changes, 1);
    assert.deepEqual(await values(), ['kept']);
  });

  it('runs the statements of a transaction\'s own work inside it, helpers included, and commits them together', async () => {
    const insert = (v: string) => db.run('INSERT INTO t VALUES (?)', [v]);
    const seen = await db.transaction(async () => {
      await insert('a');
      await Promise.all([insert('b'), insert('c')]);
      return values();
    });
    assert.deepEqual(seen, ['a', 'b', 'c']);
    assert.deepEqual(await values(), ['a', 'b', 'c']);
  });

  it('queues a statement the work of a transaction leaves running past its end behind the next transaction', async () => {
    const ended = latch();
    let late: Promise<unknown> | undefined;
    await db.transaction(async () => {
      // Fire and forget: this write runs once the transaction is over, so it is no longer part of it.
      late = ended.promise.then(() => db.run("INSERT INTO t VALUES ('late')"));
    });
    const inside = latch();
    const fail = latch();
    const second = db.transaction(async () => {
      inside.open();
      await fail.promise;
      throw new Error('cannot finish: the test fails this transaction on purpose');
    });
    await inside.promise;
    ended.open();
    fail.open();
    await assert.rejects(second);
    await late;
    assert.deepEqual(await values(), ['late']);
  });

  it('refuses to begin a transaction inside another instead of waiting for itself forever', async () => {
    await assert.rejects(
      db.transaction(() => db.transaction(async () => {})),
      { message: `cannot begin a transaction on ${db.path} inside another: sqlite does not nest them; do the work in the open transaction` },
    );
    await db.run("INSERT INTO t VALUES ('after')");
    assert.deepEqual(await values(), ['after']);
  });
});
