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
