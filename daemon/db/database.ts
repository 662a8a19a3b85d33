import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import { link, open, stat, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import sqlite3 from 'sqlite3';
import { CoreforgeError } from '../errors.js';

export type DbErrorKind =
  /** state.db exists but is not a readable sqlite database (corrupt, foreign file). */
  | 'state-db-corrupt'
  /** state.db cannot be opened or created (permissions, missing directory). */
  | 'state-db-unavailable'
  /** state.db was written by a newer coreforged than this one. */
  | 'state-db-too-new';

function unavailable(path: string, err: Error): CoreforgeError<DbErrorKind> {
  return new CoreforgeError<DbErrorKind>(
    'state-db-unavailable',
    `cannot open state database ${path}: ${err.message}; check that its directory exists and is writable by coreforged`,
  );
}

/** Opens a sqlite connection (creating the file when missing). */
function openHandle(path: string): Promise<sqlite3.Database> {
  return new Promise<sqlite3.Database>((resolve, reject) => {
    const db = new sqlite3.Database(path, (err) => (err ? reject(err) : resolve(db)));
  }).catch((err: Error) => {
    throw unavailable(path, err);
  });
}

export type SqlValue = string | number | bigint | Buffer | null;
export type SqlParams = SqlValue[] | Record<string, SqlValue>;
export type Row = Record<string, SqlValue>;

/** The transaction a piece of work runs in; `open` turns false at COMMIT or ROLLBACK. */
interface OpenTransaction {
  open: boolean;
}

/**
 * A promise-shaped handle on one sqlite file. Every daemon library that needs
 * persistence receives one of these instead of opening files itself.
 *
 * The file has one connection, and on one connection a statement issued while
 * a transaction is open runs inside it: an unrelated write (a task's progress)
 * would be undone by the transaction's rollback. So every statement and every
 * transaction waits its turn in one queue, except the statements of the open
 * transaction's own work (found by async context), which run in it.
 */
export class Database {
  /** Settles when everything queued so far has run. */
  private queue: Promise<unknown> = Promise.resolve();
  private readonly transactionOf = new AsyncLocalStorage<OpenTransaction>();

  private constructor(
    private readonly handle: sqlite3.Database,
    readonly path: string,
  ) {}

  /**
   * Opens a sqlite file with WAL and foreign keys on, creating it when there is
   * no file at all. An existing file that is not a sound database (an empty one
   * included) is refused, never reset.
   */
  static async open(path: string): Promise<Database> {
    const corrupt = (why: string) =>
      new CoreforgeError<DbErrorKind>(
        'state-db-corrupt',
        `cannot use state database ${path}: ${why}; ` +
          `coreforged will not reset it on its own: move the file aside to start with empty state, or restore it from a backup`,
      );
    let size: number | undefined;
    try {
      size = (await stat(path)).size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw unavailable(path, err as Error);
    }
    // sqlite takes an empty file for a new database: a state.db truncated to 0 bytes
    // (disk full, a bad restore) would silently become empty state beside a keys dir
    // that still holds keys. create() never leaves an empty file, so one is damage.
    if (size === 0) throw corrupt('the file is empty (0 bytes), so the keys, changes and builds it indexed are lost');
    if (size === undefined) await Database.create(path);
    const db = new Database(await openHandle(path), path);
    try {
      // The first statements that read the file are where a foreign or corrupt
      // file shows itself (sqlite opens lazily).
      await db.get('PRAGMA schema_version');
      await db.get('PRAGMA journal_mode = WAL');
      // WAL with synchronous=NORMAL: a commit does not wait for an fsync (the WAL is synced at
      // checkpoints), so task updates do not queue behind an image being flushed to disk. A power
      // cut may lose the last commits but never corrupts the file; the engine treats a change it
      // finds unfinished at start as interrupted.
      await db.run('PRAGMA synchronous = NORMAL');
      await db.run('PRAGMA foreign_keys = ON');
      await db.run('PRAGMA busy_timeout = 5000');
      const check = await db.get('PRAGMA quick_check');
      if (check?.quick_check !== 'ok') {
        throw new Error(`integrity check failed: ${String(check?.quick_check)}`);
      }
    } catch (err) {
      await db.close().catch(() => {});
      if (err instanceof CoreforgeError) throw err;
      throw corrupt((err as Error).message.replace(/^SQLITE_\w+: /, ''));
    }
    return db;
  }

  /**
   * Makes a new database file whole: written under a temporary name until it has
   * its header (WAL mode is recorded there), then linked into place, so a crash
   * never leaves an empty file at `path`. link() does not replace a file another
   * process created meanwhile.
   */
  private static async create(path: string): Promise<void> {
    const temp = `${path}.new-${randomBytes(6).toString('hex')}`;
    try {
      const db = new Database(await openHandle(temp), temp);
      try {
        await db.get('PRAGMA journal_mode = WAL');
      } finally {
        await db.close();
      }
      const file = await open(temp, 'r');
      await file.sync().finally(() => file.close());
      await link(temp, path).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'EEXIST') throw err;
      });
      const dir = await open(dirname(path), 'r');
      await dir.sync().catch(() => {}).finally(() => dir.close());
    } catch (err) {
      throw err instanceof CoreforgeError ? err : unavailable(path, err as Error);
    } finally {
      await unlink(temp).catch(() => {});
    }
  }

  /** Runs a statement that returns no rows; gives the last row id and change count. */
  run(sql: string, params: SqlParams = []): Promise<{ lastID: number; changes: number }> {
    return this.inTurn(
      () =>
        new Promise((resolve, reject) => {
          this.handle.run(sql, params, function (this: sqlite3.RunResult, err: Error | null) {
            if (err) reject(err);
            else resolve({ lastID: this.lastID, changes: this.changes });
          });
        }),
    );
  }

  get<T = Row>(sql: string, params: SqlParams = []): Promise<T | undefined> {
    return this.inTurn(
      () =>
        new Promise((resolve, reject) => {
          this.handle.get(sql, params, (err: Error | null, row: T | undefined) => (err ? reject(err) : resolve(row)));
        }),
    );
  }

  all<T = Row>(sql: string, params: SqlParams = []): Promise<T[]> {
    return this.inTurn(
      () =>
        new Promise((resolve, reject) => {
          this.handle.all(sql, params, (err: Error | null, rows: T[]) => (err ? reject(err) : resolve(rows)));
        }),
    );
  }

  /** Runs a script of several statements (migrations). */
  exec(sql: string): Promise<void> {
    return this.inTurn(() => new Promise((resolve, reject) => this.handle.exec(sql, (err) => (err ? reject(err) : resolve()))));
  }

  /**
   * Runs `work` inside one transaction, after everything queued before it;
   * statements from elsewhere wait until it commits or rolls back. A
   * transaction cannot be begun inside another (sqlite has no nested BEGIN).
   */
  transaction<T>(work: () => Promise<T>): Promise<T> {
    if (this.transactionOf.getStore()?.open) {
      return Promise.reject(new Error(`cannot begin a transaction on ${this.path} inside another: sqlite does not nest them; do the work in the open transaction`));
    }
    return this.inTurn(() => {
      const tx: OpenTransaction = { open: true };
      return this.transactionOf.run(tx, async () => {
        await this.run('BEGIN IMMEDIATE');
        try {
          const result = await work();
          await this.run('COMMIT');
          return result;
        } catch (err) {
          await this.run('ROLLBACK').catch(() => {});
          throw err;
        } finally {
          tx.open = false;
        }
      });
    });
  }

  /** Closes the file once every queued statement has run. */
  close(): Promise<void> {
    return this.inTurn(() => new Promise((resolve, reject) => this.handle.close((err) => (err ? reject(err) : resolve()))));
  }

  /**
   * Runs `op` when its turn in the queue comes, or at once when it belongs to
   * the open transaction's own work (waiting would deadlock it). Work a
   * transaction started but that runs after it ended queues like any other.
   */
  private inTurn<T>(op: () => Promise<T>): Promise<T> {
    if (this.transactionOf.getStore()?.open) return op();
    const next = this.queue.then(op);
    this.queue = next.catch(() => {});
    return next;
  }
}
