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

/**
 * A promise-shaped handle on one sqlite file. Every daemon library that needs
 * persistence receives one of these instead of opening files itself.
 */
export class Database {
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
    return new Promise((resolve, reject) => {
      this.handle.run(sql, params, function (this: sqlite3.RunResult, err: Error | null) {
        if (err) reject(err);
        else resolve({ lastID: this.lastID, changes: this.changes });
      });
    });
  }

  get<T = Row>(sql: string, params: SqlParams = []): Promise<T | undefined> {
    return new Promise((resolve, reject) => {
      this.handle.get(sql, params, (err: Error | null, row: T | undefined) => (err ? reject(err) : resolve(row)));
    });
  }

  all<T = Row>(sql: string, params: SqlParams = []): Promise<T[]> {
    return new Promise((resolve, reject) => {
      this.handle.all(sql, params, (err: Error | null, rows: T[]) => (err ? reject(err) : resolve(rows)));
    });
  }

  /** Runs a script of several statements (migrations). */
  exec(sql: string): Promise<void> {
    return new Promise((resolve, reject) => this.handle.exec(sql, (err) => (err ? reject(err) : resolve())));
  }

  /**
   * Runs `work` inside one transaction. Calls are serialized so two async
   * transactions never interleave on the single connection.
   */
  transaction<T>(work: () => Promise<T>): Promise<T> {
    const next = this.txQueue.then(async () => {
      await this.run('BEGIN IMMEDIATE');
      try {
        const result = await work();
        await this.run('COMMIT');
        return result;
      } catch (err) {
        await this.run('ROLLBACK').catch(() => {});
        throw err;
      }
    });
    this.txQueue = next.catch(() => {});
    return next;
  }
  private txQueue: Promise<unknown> = Promise.resolve();

  close(): Promise<void> {
    return new Promise((resolve, reject) => this.handle.close((err) => (err ? reject(err) : resolve())));
  }
}
