import { CoreforgeError } from '../errors.js';
import type { Database, DbErrorKind } from './database.js';

/** One numbered, append-only schema step. Never edit a released migration; add a new one. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** The schema of state.db, in order. Libraries append their own tables here. */
export const migrations: Migration[] = [
  {
    version: 1,
    name: 'changes and tasks',
    sql: `
      CREATE TABLE changes (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        kind        TEXT NOT NULL,
        summary     TEXT NOT NULL,
        status      TEXT NOT NULL CHECK (status IN ('Do','Doing','Done','Error','Abort')),
        spawn_time  TEXT NOT NULL,
        ready_time  TEXT,
        err         TEXT,
        err_kind    TEXT,
        data        TEXT NOT NULL DEFAULT '{}',
        result      TEXT
      );
      CREATE INDEX changes_status ON changes(status);
      CREATE TABLE tasks (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        change_id   INTEGER NOT NULL REFERENCES changes(id) ON DELETE CASCADE,
        seq         INTEGER NOT NULL,
        kind        TEXT NOT NULL,
        summary     TEXT NOT NULL,
        status      TEXT NOT NULL CHECK (status IN ('Do','Doing','Done','Error','Abort','Hold')),
        data        TEXT NOT NULL DEFAULT '{}',
        result      TEXT,
        err         TEXT,
        progress    TEXT,
        spawn_time  TEXT NOT NULL,
        ready_time  TEXT,
        UNIQUE (change_id, seq)
      );
      CREATE TABLE task_log (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        task_id     INTEGER NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
        time        TEXT NOT NULL,
        level       TEXT NOT NULL,
        message     TEXT NOT NULL
      );
      CREATE INDEX task_log_task ON task_log(task_id);
    `,
  },
  {
    version: 2,
    name: 'keyring index',
    sql: `
      CREATE TABLE keys (
        name        TEXT PRIMARY KEY,
        key_id      TEXT NOT NULL UNIQUE,
        created     TEXT NOT NULL,
        path        TEXT NOT NULL
      );
    `,
  },
  {
    version: 3,
    name: 'assertion database',
    sql: `
      CREATE TABLE assertions (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        type        TEXT NOT NULL,
        primary_key TEXT NOT NULL,
        revision    INTEGER NOT NULL,
        sign_key    TEXT NOT NULL,
        headers     TEXT NOT NULL,
        text        TEXT NOT NULL,
        trusted     INTEGER NOT NULL DEFAULT 0,
        added       TEXT NOT NULL,
        UNIQUE (type, primary_key)
      );
      CREATE INDEX assertions_sign_key ON assertions(sign_key);
    `,
  },
  {
    version: 4,
    name: 'embedded local store',
    sql: `
      CREATE TABLE store_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE store_assertions (
        type        TEXT NOT NULL,
        primary_key TEXT NOT NULL,
        text        TEXT NOT NULL,
        account_id  TEXT,
        PRIMARY KEY (type, primary_key)
      );
      CREATE INDEX store_assertions_account ON store_assertions(type, account_id);
      CREATE TABLE store_snaps (
        name         TEXT PRIMARY KEY,
        snap_id      TEXT NOT NULL UNIQUE,
        publisher_id TEXT NOT NULL,
        created      TEXT NOT NULL
      );
      CREATE TABLE store_revisions (
        snap_id     TEXT NOT NULL REFERENCES store_snaps(snap_id),
        revision    INTEGER NOT NULL,
        sha3_384    TEXT NOT NULL UNIQUE,
        size        INTEGER NOT NULL,
        meta        TEXT NOT NULL,
        created     TEXT NOT NULL,
        PRIMARY KEY (snap_id, revision)
      );
      CREATE TABLE store_channels (
        snap_id      TEXT NOT NULL REFERENCES store_snaps(snap_id),
        architecture TEXT NOT NULL,
        track        TEXT NOT NULL,
        risk         TEXT NOT NULL,
        branch       TEXT NOT NULL DEFAULT '',
        revision     INTEGER NOT NULL,
        released     TEXT NOT NULL,
        PRIMARY KEY (snap_id, architecture, track, risk, branch)
      );
      CREATE TABLE store_accounts (
        account_id    TEXT PRIMARY KEY,
        email         TEXT NOT NULL UNIQUE,
        username      TEXT NOT NULL UNIQUE,
        ssh_keys      TEXT NOT NULL,
        password_hash TEXT,
        otp_secret    TEXT,
        created       TEXT NOT NULL
      );
    `,
  },
  {
    version: 5,
    name: 'image builds',
    sql: `
      CREATE TABLE builds (
        id          TEXT PRIMARY KEY,
        change_id   TEXT NOT NULL,
        model       TEXT NOT NULL,
        brand       TEXT NOT NULL,
        output_dir  TEXT NOT NULL,
        workdir     TEXT NOT NULL,
        created     TEXT NOT NULL,
        artifacts   TEXT NOT NULL DEFAULT '[]',
        warnings    TEXT NOT NULL DEFAULT '[]'
      );
    `,
  },
  {
    version: 6,
    name: 'change owners',
    sql: `
      ALTER TABLE changes ADD COLUMN owner TEXT;
    `,
  },
  {
    version: 7,
    name: 'build owners',
    sql: `
      ALTER TABLE builds ADD COLUMN owner TEXT;
      ALTER TABLE builds ADD COLUMN output_key TEXT;
    `,
  },
  {
    version: 8,
    name: 'change error details',
    sql: `
      ALTER TABLE changes ADD COLUMN err_details TEXT;
    `,
  },
];

/**
 * Brings state.db to the newest schema, one transaction per step, and refuses
 * a database written by a newer coreforged rather than guessing.
 */
export async function migrate(db: Database, steps: Migration[] = migrations): Promise<number> {
  await db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`);
  const row = await db.get<{ v: number | null }>('SELECT MAX(version) AS v FROM schema_migrations');
  const current = row?.v ?? 0;
  const newest = steps.reduce((max, m) => Math.max(max, m.version), 0);
  if (current > newest) {
    throw new CoreforgeError<DbErrorKind>(
      'state-db-too-new',
      `cannot use state database ${db.path}: it has schema version ${current} but this coreforged knows only up to ${newest}; ` +
        `run a newer coreforged or restore a backup made by this version`,
    );
  }
  for (const step of [...steps].sort((a, b) => a.version - b.version)) {
    if (step.version <= current) continue;
    await db.transaction(async () => {
      await db.exec(step.sql);
      await db.run('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)', [
        step.version,
        step.name,
        new Date().toISOString(),
      ]);
    });
  }
  return newest;
}
