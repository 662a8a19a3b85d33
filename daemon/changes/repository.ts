import type { Database } from '../db/database.js';
import type {
  ChangeInfo,
  ChangeOwner,
  ChangeStatus,
  NewChange,
  TaskInfo,
  TaskLogEntry,
  TaskProgress,
  TaskStatus,
} from './types.js';

interface ChangeRow {
  id: number;
  kind: string;
  summary: string;
  status: ChangeStatus;
  spawn_time: string;
  ready_time: string | null;
  err: string | null;
  err_kind: string | null;
  err_details: string | null;
  data: string;
  result: string | null;
  owner: string | null;
}

interface TaskRow {
  id: number;
  change_id: number;
  seq: number;
  kind: string;
  summary: string;
  status: TaskStatus;
  data: string;
  result: string | null;
  err: string | null;
  progress: string | null;
  spawn_time: string;
  ready_time: string | null;
}

/** A task as the engine needs it to run: its input and place in the change. */
export interface RunnableTask {
  id: number;
  changeId: number;
  seq: number;
  kind: string;
  status: TaskStatus;
  /** As stored: its kind's parser checks it before the task runs (an UnreadableJson when it is not even JSON). */
  data: unknown;
}

/** What a change keeps as input, as stored, for the engine to check against its task kinds. */
export interface StoredChangeData {
  data: unknown;
  tasks: { id: number; kind: string; data: unknown }[];
}

/**
 * A JSON column of state.db that does not parse (edited by hand, damaged
 * disk): returned in place of the value so the engine reports the change as
 * unreadable instead of a read crashing the daemon or the whole listing.
 */
export class UnreadableJson {
  constructor(readonly reason: string) {}
}

function readJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    return new UnreadableJson((err as Error).message);
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof UnreadableJson);

/** A change's data as the API shows it; damaged data shows as {} (the engine reports the change as unreadable, naming what broke). */
function shownData(text: string): Record<string, unknown> {
  const data = readJson(text);
  return isObject(data) ? data : {};
}

export type ChangeSelection = 'all' | 'in-progress' | 'ready';

const ownerRecord = (o: ChangeOwner): ChangeOwner => ({ pid: o.pid, uid: o.uid, gid: o.gid, groups: o.groups });

/**
 * Every read and write of changes, tasks and task logs in state.db. Each
 * state transition is one statement or one transaction, so a crash never
 * leaves a change half-updated.
 */
export class ChangeRepository {
  constructor(
    private readonly db: Database,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async create(spec: NewChange): Promise<number> {
    const time = this.now().toISOString();
    return this.db.transaction(async () => {
      const { lastID } = await this.db.run(
        'INSERT INTO changes (kind, summary, status, spawn_time, data, owner) VALUES (?, ?, ?, ?, ?, ?)',
        [spec.kind, spec.summary, 'Do', time, JSON.stringify(spec.data ?? {}), spec.owner ? JSON.stringify(ownerRecord(spec.owner)) : null],
      );
      let seq = 0;
      for (const task of spec.tasks) {
        await this.db.run(
          'INSERT INTO tasks (change_id, seq, kind, summary, status, data, spawn_time) VALUES (?, ?, ?, ?, ?, ?, ?)',
          [lastID, seq++, task.kind, task.summary, 'Do', JSON.stringify(task.data ?? {}), time],
        );
      }
      return lastID;
    });
  }

  async setChangeStatus(
    id: number,
    status: ChangeStatus,
    extra: { err?: string; errKind?: string; errDetails?: Record<string, unknown>; result?: unknown } = {},
  ): Promise<void> {
    const ready = status === 'Done' || status === 'Error' || status === 'Abort';
    await this.db.run(
      `UPDATE changes SET status = ?, ready_time = ?, err = COALESCE(?, err), err_kind = COALESCE(?, err_kind),
         err_details = COALESCE(?, err_details), result = COALESCE(?, result) WHERE id = ?`,
      [
        status,
        ready ? this.now().toISOString() : null,
        extra.err ?? null,
        extra.errKind ?? null,
        extra.errDetails === undefined ? null : JSON.stringify(extra.errDetails),
        extra.result === undefined ? null : JSON.stringify(extra.result),
        id,
      ],
    );
  }

  async setTaskStatus(id: number, status: TaskStatus, extra: { err?: string; result?: unknown } = {}): Promise<void> {
    const ready = status !== 'Do' && status !== 'Doing';
    await this.db.run(
      'UPDATE tasks SET status = ?, ready_time = ?, err = COALESCE(?, err), result = COALESCE(?, result) WHERE id = ?',
      [
        status,
        ready ? this.now().toISOString() : null,
        extra.err ?? null,
        extra.result === undefined ? null : JSON.stringify(extra.result),
        id,
      ],
    );
  }

  /** Marks every not-yet-run task of a change as held (it will never run). */
  async holdRemainingTasks(changeId: number): Promise<void> {
    await this.db.run("UPDATE tasks SET status = 'Hold', ready_time = ? WHERE change_id = ? AND status = 'Do'", [
      this.now().toISOString(),
      changeId,
    ]);
  }

  async setTaskProgress(id: number, progress: TaskProgress): Promise<void> {
    await this.db.run('UPDATE tasks SET progress = ? WHERE id = ?', [JSON.stringify(progress), id]);
  }

  async addLog(taskId: number, entry: TaskLogEntry): Promise<void> {
    await this.db.run('INSERT INTO task_log (task_id, time, level, message) VALUES (?, ?, ?, ?)', [
      taskId,
      entry.time,
      entry.level,
      entry.message,
    ]);
  }

  async tasksOf(changeId: number): Promise<RunnableTask[]> {
    const rows = await this.db.all<TaskRow>('SELECT * FROM tasks WHERE change_id = ? ORDER BY seq', [changeId]);
    return rows.map((row) => ({
      id: row.id,
      changeId: row.change_id,
      seq: row.seq,
      kind: row.kind,
      status: row.status,
      data: readJson(row.data),
    }));
  }

  /** The stored input of changes (their data and their tasks' data), for the engine to check when it shows them. */
  async storedData(changeIds: number[]): Promise<Map<number, StoredChangeData>> {
    const out = new Map<number, StoredChangeData>();
    if (changeIds.length === 0) return out;
    const marks = changeIds.map(() => '?').join(',');
    const changes = await this.db.all<{ id: number; data: string }>(`SELECT id, data FROM changes WHERE id IN (${marks})`, changeIds);
    for (const c of changes) out.set(c.id, { data: readJson(c.data), tasks: [] });
    const tasks = await this.db.all<{ id: number; change_id: number; kind: string; data: string }>(
      `SELECT id, change_id, kind, data FROM tasks WHERE change_id IN (${marks}) ORDER BY change_id, seq`,
      changeIds,
    );
    for (const t of tasks) out.get(t.change_id)?.tasks.push({ id: t.id, kind: t.kind, data: readJson(t.data) });
    return out;
  }

  /** Who started a change (uid, gid, groups), for the tasks that act with its rights; null for changes from before owners were kept. */
  async owner(id: number): Promise<ChangeOwner | null> {
    const row = await this.db.get<{ owner: string | null }>('SELECT owner FROM changes WHERE id = ?', [id]);
    return row?.owner ? (JSON.parse(row.owner) as ChangeOwner) : null;
  }

  async status(id: number): Promise<ChangeStatus | undefined> {
    return (await this.db.get<{ status: ChangeStatus }>('SELECT status FROM changes WHERE id = ?', [id]))?.status;
  }

  async get(id: number): Promise<ChangeInfo | undefined> {
    const row = await this.db.get<ChangeRow>('SELECT * FROM changes WHERE id = ?', [id]);
    if (!row) return undefined;
    const [info] = await this.withTasks([row]);
    return info;
  }

  async list(select: ChangeSelection): Promise<ChangeInfo[]> {
    const where =
      select === 'in-progress'
        ? "WHERE status IN ('Do','Doing')"
        : select === 'ready'
          ? "WHERE status IN ('Done','Error','Abort')"
          : '';
    const rows = await this.db.all<ChangeRow>(`SELECT * FROM changes ${where} ORDER BY id`);
    return this.withTasks(rows);
  }

  /** Ids of changes in a given status, oldest first. */
  async idsWithStatus(status: ChangeStatus): Promise<number[]> {
    const rows = await this.db.all<{ id: number }>('SELECT id FROM changes WHERE status = ? ORDER BY id', [status]);
    return rows.map((r) => r.id);
  }

  /**
   * After a crash or restart: every change still marked Doing ends in Error with
   * `reason`, its running task too, and its unstarted tasks are held.
   */
  async failInterrupted(reason: string): Promise<number[]> {
    return this.db.transaction(async () => {
      const ids = await this.idsWithStatus('Doing');
      const time = this.now().toISOString();
      for (const id of ids) {
        await this.db.run("UPDATE tasks SET status = 'Error', err = ?, ready_time = ? WHERE change_id = ? AND status = 'Doing'", [
          reason,
          time,
          id,
        ]);
        await this.db.run("UPDATE tasks SET status = 'Hold', ready_time = ? WHERE change_id = ? AND status = 'Do'", [time, id]);
        await this.db.run("UPDATE changes SET status = 'Error', err = ?, err_kind = 'interrupted', ready_time = ? WHERE id = ?", [
          reason,
          time,
          id,
        ]);
      }
      return ids;
    });
  }

  private async withTasks(rows: ChangeRow[]): Promise<ChangeInfo[]> {
    if (rows.length === 0) return [];
    const ids = rows.map((r) => r.id);
    const marks = ids.map(() => '?').join(',');
    const tasks = await this.db.all<TaskRow>(`SELECT * FROM tasks WHERE change_id IN (${marks}) ORDER BY change_id, seq`, ids);
    const logs = await this.db.all<{ task_id: number; time: string; level: TaskLogEntry['level']; message: string }>(
      `SELECT task_log.* FROM task_log JOIN tasks ON tasks.id = task_log.task_id WHERE tasks.change_id IN (${marks}) ORDER BY task_log.id`,
      ids,
    );
    const logsByTask = new Map<number, TaskLogEntry[]>();
    for (const l of logs) {
      const list = logsByTask.get(l.task_id) ?? [];
      list.push({ time: l.time, level: l.level, message: l.message });
      logsByTask.set(l.task_id, list);
    }
    const tasksByChange = new Map<number, TaskInfo[]>();
    for (const t of tasks) {
      const list = tasksByChange.get(t.change_id) ?? [];
      list.push({
        id: String(t.id),
        kind: t.kind,
        summary: t.summary,
        status: t.status,
        progress: t.progress ? storedProgress(t.progress) : null,
        log: logsByTask.get(t.id) ?? [],
        'spawn-time': t.spawn_time,
        'ready-time': t.ready_time,
        ...(t.err ? { err: t.err } : {}),
      });
      tasksByChange.set(t.change_id, list);
    }
    return rows.map((row) => ({
      id: String(row.id),
      kind: row.kind,
      summary: row.summary,
      status: row.status,
      ready: row.status === 'Done' || row.status === 'Error' || row.status === 'Abort',
      'spawn-time': row.spawn_time,
      'ready-time': row.ready_time,
      ...(row.err ? { err: row.err } : {}),
      ...(row.err_kind ? { 'err-kind': row.err_kind } : {}),
      ...(row.err_details ? { 'err-details': readJson(row.err_details) as Record<string, unknown> } : {}),
      owner: row.owner ? (JSON.parse(row.owner) as ChangeOwner).uid : null,
      tasks: tasksByChange.get(row.id) ?? [],
      data: shownData(row.data),
      ...(row.result ? { result: JSON.parse(row.result) as unknown } : {}),
    }));
  }
}

/** A task's stored progress in today's shape: rows written before units had no unit, no done and a 0 total for unknown. */
function storedProgress(json: string): TaskProgress {
  const p = JSON.parse(json) as TaskProgress;
  if (p.unit !== undefined) return p;
  const known = p.total !== null && p.total > 0;
  return { ...p, done: p.bytes, unit: 'bytes', total: known ? p.total : null, percentage: known ? p.percentage : null };
}
