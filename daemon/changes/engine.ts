import { type Clock, systemClock } from '../clock.js';
import { CoreforgeError, isCoreforgeError } from '../errors.js';
import type { Logger } from '../log.js';
import { ProgressTracker } from './progress.js';
import { UnreadableJson, type ChangeRepository, type ChangeSelection, type RunnableTask, type StoredChangeData } from './repository.js';
import { badTaskData, dataObject } from './task-data.js';
import { KeyedThrottle } from './throttle.js';
import type { ChangeInfo, ChangeOwner, ChangeStatus, NewChange, ProgressDetail, ProgressEvent, TaskLogEntry } from './types.js';

export type ChangesErrorKind =
  /** No change has that id. */
  | 'change-not-found'
  /** The change is already Done, Error or Abort. */
  | 'change-not-abortable'
  /** A change names a task kind this coreforged has no handler for. */
  | 'unknown-task-kind'
  /** A task failed with an unexpected (non-coreforge) error: a bug to report. */
  | 'internal-error'
  /** The daemon stopped or restarted while the change ran. */
  | 'interrupted'
  /** The change was aborted by its owner or root (POST /v1/changes/ID {"action":"abort"}). */
  | 'aborted'
  /** A new change's task data breaks its task kind's rules (a field missing or of the wrong type). */
  | 'bad-task-data'
  /** A change in state.db whose data no longer parses for its task kind (edited, damaged, or from an incompatible coreforged). */
  | 'stored-change-unreadable';

/** What a task handler gets: its input (D: its own data, C: the change's, as its kind parsed them), where to report, and when to stop. */
export interface TaskContext<D = Record<string, unknown>, C = Record<string, unknown>> {
  change: string;
  task: string;
  /** Who started the change: paths it names are used with these rights. Changes from before owners were kept are root's. */
  owner: ChangeOwner;
  data: D;
  changeData: C;
  /** Results of the tasks before this one in the change, in order. */
  previous: unknown[];
  signal: AbortSignal;
  /**
   * Reports `done` of `total` (null or 0: unknown) units of `phase`; bytes unless `detail.unit` says steps.
   * A string detail is the target alone, the form task code used before units.
   */
  progress(phase: string, done: number, total: number | null, detail?: ProgressDetail | string): void;
  log(level: TaskLogEntry['level'], message: string): void;
}

/**
 * A kind of task: its handler, how many may run at once across all changes,
 * and the parsers of the data it reads. A parser runs when a change is created
 * (its result is what is stored) and whenever the task is read back from
 * state.db to run or to show; it throws badTaskData naming the field. A kind
 * without a parser gets its data as a plain JSON object.
 */
export interface TaskKind<D = Record<string, unknown>, C = Record<string, unknown>> {
  name: string;
  concurrency?: number;
  parseData?(data: unknown): D;
  /** For kinds whose tasks read the change's data (`ctx.changeData`). */
  parseChangeData?(data: unknown): C;
  run(ctx: TaskContext<D, C>): Promise<unknown>;
}

/** Any task kind, whatever its data types, as the engine holds them. */
export type AnyTaskKind = TaskKind<unknown, unknown>;

export interface StatusEvent {
  change: string;
  kind: string;
  status: ChangeStatus;
  err?: string;
}

type AbortReason = 'user' | 'shutdown';

/** Checks data with a kind's parser, or, for a kind without one, as a plain JSON object. */
function parseWith(parse: ((data: unknown) => unknown) | undefined, data: unknown): unknown {
  if (data instanceof UnreadableJson) throw badTaskData('data', `is not JSON (${data.reason})`);
  return parse ? parse(data) : dataObject(data);
}

/** What a parser said, as a sentence part and the field it named. */
function parseFailure(err: unknown): { reason: string; field: string } {
  const field = isCoreforgeError(err) && typeof err.details?.field === 'string' ? err.details.field : 'data';
  return { reason: (err as Error)?.message ?? String(err), field };
}

/** Machine-readable facts of a task's error for the change's err-details; a partial result is reported as the change's result instead. */
function errDetailsOf(details: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (!details) return undefined;
  const { result: _partial, ...rest } = details;
  return Object.keys(rest).length > 0 ? rest : undefined;
}

/** A change whose stored data no longer parses, as shown: the problem is its error, whatever it said before is kept in the details. */
function reportedUnreadable(change: ChangeInfo, err: CoreforgeError): ChangeInfo {
  if (change['err-kind'] === err.kind) return change;
  const previous = change.err === undefined ? {} : { 'previous-err': change.err, 'previous-err-kind': change['err-kind'] ?? null };
  const task = String(err.details?.task);
  return {
    ...change,
    err: err.message,
    'err-kind': err.kind,
    'err-details': { ...err.details, ...previous },
    tasks: change.tasks.map((t) => (t.id === task && t.err === undefined ? { ...t, err: err.message } : t)),
  };
}

/** Counting semaphore, one per task kind; a waiter gives up its place when its change is aborted. */
class Slots {
  private waiting: ((granted: boolean) => void)[] = [];
  constructor(private free: number) {}
  /** Resolves true with a slot held, or false (no slot) if the signal aborted first. */
  async acquire(signal: AbortSignal): Promise<boolean> {
    if (signal.aborted) return false;
    if (this.free > 0) {
      this.free--;
      return true;
    }
    return new Promise<boolean>((resolve) => {
      const grant = (granted: boolean) => {
        signal.removeEventListener('abort', giveUp);
        resolve(granted);
      };
      const giveUp = () => {
        this.waiting = this.waiting.filter((w) => w !== grant);
        resolve(false);
      };
      signal.addEventListener('abort', giveUp, { once: true });
      this.waiting.push(grant);
    });
  }
  release(): void {
    const next = this.waiting.shift();
    if (next) next(true);
    else this.free++;
  }
}

const progressIntervalMs = 100;
/** Whose rights a change from before owners were kept runs with. */
const rootOwner: ChangeOwner = { pid: 0, uid: 0, gid: 0, groups: [] };
/** Progress of several targets of one change is throttled per target, keyed "CHANGE\0TARGET". */
const targetKeySeparator = '\0';
const ofChange = (changeId: string) => (key: string) => key === changeId || key.startsWith(changeId + targetKeySeparator);

/**
 * Runs changes: each change's tasks in order, each task kind within its
 * concurrency limit, every transition written to sqlite before it is announced.
 * Progress is throttled to 10 events per second per change; a status event is
 * always preceded by the newest progress, so the final state is never lost.
 */
export class ChangeEngine {
  private kinds = new Map<string, { kind: AnyTaskKind; slots: Slots }>();
  private running = new Map<number, { controller: AbortController; done: Promise<void> }>();
  /** The owner uid of each running change, for listeners that route its events (null: root's). */
  private owners = new Map<string, number | null>();
  private progressListeners = new Set<(e: ProgressEvent) => void>();
  private statusListeners = new Set<(e: StatusEvent) => void>();
  private throttle: KeyedThrottle<{ event: ProgressEvent; taskId: number }>;
  private stopping = false;

  constructor(
    private readonly repo: ChangeRepository,
    private readonly logger: Logger,
    /** Times progress speed, its throttle and log entries; tests pass their own. */
    private readonly clock: Clock = systemClock,
  ) {
    this.throttle = new KeyedThrottle(
      progressIntervalMs,
      (_key, { event, taskId }) => {
        const { change: _change, task: _task, status: _status, target: _target, ...progress } = event;
        void this.repo.setTaskProgress(taskId, progress).catch(() => {});
        for (const listener of this.progressListeners) listener(event);
      },
      clock,
    );
  }

  register<D = Record<string, unknown>, C = Record<string, unknown>>(kind: TaskKind<D, C>): void {
    if (this.kinds.has(kind.name)) throw new Error(`task kind ${kind.name} registered twice`);
    this.kinds.set(kind.name, { kind: kind as AnyTaskKind, slots: new Slots(kind.concurrency ?? 4) });
  }

  onProgress(listener: (e: ProgressEvent) => void): () => void {
    this.progressListeners.add(listener);
    return () => this.progressListeners.delete(listener);
  }

  onStatus(listener: (e: StatusEvent) => void): () => void {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  /**
   * Recovers state.db after the previous daemon ended (crash or kill -9):
   * interrupted changes become Error, never-started ones run again.
   */
  async start(): Promise<void> {
    const failed = await this.repo.failInterrupted('interrupted by daemon restart');
    for (const id of failed) this.logger.warn('change interrupted by daemon restart', { change: id });
    for (const id of await this.repo.idsWithStatus('Do')) this.schedule(id);
  }

  /** Persists a new change and starts running it; returns its id. */
  async create(spec: NewChange): Promise<string> {
    if (this.stopping) throw new CoreforgeError<ChangesErrorKind>('interrupted', 'cannot start a change: coreforged is stopping');
    const tasks = spec.tasks.map((task) => {
      const entry = this.kinds.get(task.kind);
      if (!entry) {
        throw new CoreforgeError<ChangesErrorKind>('unknown-task-kind', `cannot start change: no handler for task kind "${task.kind}"`);
      }
      const which = `task ${JSON.stringify(task.summary)} (kind "${task.kind}")`;
      let what = `the data of its ${which}`;
      try {
        const data = parseWith(entry.kind.parseData, task.data ?? {});
        what = `its data, as its ${which} reads it,`;
        parseWith(entry.kind.parseChangeData, spec.data ?? {});
        return { ...task, data: data as object };
      } catch (err) {
        const { reason, field } = parseFailure(err);
        throw new CoreforgeError<ChangesErrorKind>(
          'bad-task-data',
          `cannot start change ${JSON.stringify(spec.summary)}: ${what} is not valid: ${reason}; this is a bug in the code that made the change, please report it`,
          { 'task-kind': task.kind, field },
        );
      }
    });
    const id = await this.repo.create({ ...spec, tasks });
    this.logger.info(`change created: ${spec.summary}`, { change: id, kind: spec.kind });
    this.schedule(id);
    return String(id);
  }

  async get(id: string): Promise<ChangeInfo> {
    const change = /^\d+$/.test(id) ? await this.repo.get(Number(id)) : undefined;
    if (!change) {
      throw new CoreforgeError<ChangesErrorKind>(
        'change-not-found',
        `cannot find change ${JSON.stringify(id)}: no change has that id; list changes with "coreforge changes"`,
      );
    }
    const [shown] = await this.checkStored([change]);
    return shown!;
  }

  async list(select: ChangeSelection): Promise<ChangeInfo[]> {
    return this.checkStored(await this.repo.list(select));
  }

  /** Changes as shown: one whose stored data no longer parses for its task kinds is reported as stored-change-unreadable. */
  private async checkStored(changes: ChangeInfo[]): Promise<ChangeInfo[]> {
    const stored = await this.repo.storedData(changes.map((c) => Number(c.id)));
    return changes.map((change) => {
      try {
        this.parseStored(change.id, stored.get(Number(change.id)) ?? { data: {}, tasks: [] });
        return change;
      } catch (err) {
        if (!isCoreforgeError(err)) throw err;
        return reportedUnreadable(change, err);
      }
    });
  }

  /**
   * Each task's data and the change's data as its kind parses them, read back
   * from state.db; throws stored-change-unreadable naming the change, task,
   * kind and field when one no longer parses. Tasks of unknown kinds are left
   * to the runner (unknown-task-kind).
   */
  private parseStored(changeId: string, stored: StoredChangeData): Map<number, { data: unknown; changeData: unknown }> {
    const parsed = new Map<number, { data: unknown; changeData: unknown }>();
    for (const task of stored.tasks) {
      const entry = this.kinds.get(task.kind);
      if (!entry) continue;
      let of: 'task' | 'change' = 'task';
      try {
        const data = parseWith(entry.kind.parseData, task.data);
        of = 'change';
        parsed.set(task.id, { data, changeData: parseWith(entry.kind.parseChangeData, stored.data) });
      } catch (err) {
        const { reason, field } = parseFailure(err);
        const what = of === 'task' ? `the data of its task ${task.id} (kind "${task.kind}")` : `its data, as its task ${task.id} (kind "${task.kind}") reads it,`;
        throw new CoreforgeError<ChangesErrorKind>(
          'stored-change-unreadable',
          `cannot use change ${changeId}: ${what} no longer parses in state.db: ${reason}; the change cannot run, start the operation again`,
          { change: changeId, task: String(task.id), 'task-kind': task.kind, 'data-of': of, field },
        );
      }
    }
    return parsed;
  }

  /** Asks a change to stop; its running task sees its signal abort. */
  async abort(id: string): Promise<ChangeInfo> {
    const change = await this.get(id);
    if (change.ready) {
      throw new CoreforgeError<ChangesErrorKind>(
        'change-not-abortable',
        `cannot abort change ${id}: it is already ${change.status}; only changes in Do or Doing can be aborted`,
      );
    }
    const run = this.running.get(Number(id));
    if (run) {
      run.controller.abort('user' satisfies AbortReason);
      await run.done;
    }
    return this.get(id);
  }

  /**
   * Daemon shutdown: signals every running task, waits up to `graceMs` for
   * them to reach a safe point, and marks whatever is still running as Error.
   */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    const runs = [...this.running.values()];
    for (const run of runs) run.controller.abort('shutdown' satisfies AbortReason);
    const all = Promise.all(runs.map((r) => r.done));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      all.then(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), graceMs))),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      const ids = await this.repo.failInterrupted('daemon stopped');
      for (const id of ids) this.logger.warn('change did not stop in time; marked as error', { change: id });
    }
  }

  private schedule(id: number): void {
    if (this.running.has(id)) return;
    const controller = new AbortController();
    const done = this.runChange(id, controller.signal)
      .catch((err: Error) => this.logger.error(`change runner failed: ${err.message}`, { change: id }))
      .finally(() => this.running.delete(id));
    this.running.set(id, { controller, done });
  }

  /** The uid that started a running change (null: root's); undefined once it is no longer running. */
  ownerOf(change: string): number | null | undefined {
    return this.owners.get(change);
  }

  private async runChange(id: number, signal: AbortSignal): Promise<void> {
    const change = await this.repo.get(id);
    if (!change) return;
    this.owners.set(change.id, change.owner);
    try {
      await this.runTasks(id, change, signal);
    } finally {
      this.owners.delete(change.id);
    }
  }

  private async runTasks(id: number, change: ChangeInfo, signal: AbortSignal): Promise<void> {
    const tasks = await this.repo.tasksOf(id);
    for (const task of tasks) {
      if (!this.kinds.has(task.kind)) {
        return this.finish(id, change.kind, 'Error', {
          err: `no handler for task kind "${task.kind}" in this coreforged`,
          errKind: 'unknown-task-kind',
        });
      }
    }
    let parsed: Map<number, { data: unknown; changeData: unknown }>;
    try {
      parsed = this.parseStored(change.id, (await this.repo.storedData([id])).get(id)!);
    } catch (err) {
      if (!isCoreforgeError(err)) throw err;
      return this.finish(id, change.kind, 'Error', { err: err.message, errKind: err.kind, ...(err.details ? { errDetails: err.details } : {}) });
    }
    await this.repo.setChangeStatus(id, 'Doing');
    this.announce(id, change.kind, 'Doing');
    const results: unknown[] = [];
    let lastResult: unknown = undefined;
    for (const task of tasks) {
      if (task.status === 'Done') continue;
      if (signal.aborted) return this.endAborted(id, change.kind, signal);
      const outcome = await this.runTask(change, task, parsed.get(task.id)!, results, signal);
      if (outcome.ok) {
        results.push(outcome.result);
        if (outcome.result !== undefined) lastResult = outcome.result;
        continue;
      }
      if (signal.aborted) return this.endAborted(id, change.kind, signal, task.id);
      await this.repo.setTaskStatus(task.id, 'Error', { err: outcome.message, result: outcome.result });
      return this.finish(id, change.kind, 'Error', {
        err: outcome.message,
        errKind: outcome.kind,
        result: outcome.result,
        ...(outcome.details ? { errDetails: outcome.details } : {}),
      });
    }
    if (signal.aborted) return this.endAborted(id, change.kind, signal);
    await this.finish(id, change.kind, 'Done', { result: lastResult });
  }

  private async runTask(
    change: ChangeInfo,
    task: RunnableTask,
    input: { data: unknown; changeData: unknown },
    previous: unknown[],
    signal: AbortSignal,
  ): Promise<{ ok: true; result: unknown } | { ok: false; message: string; kind: string; result?: unknown; details?: Record<string, unknown> }> {
    const entry = this.kinds.get(task.kind)!;
    if (!(await entry.slots.acquire(signal))) return { ok: false, message: 'aborted', kind: 'aborted' };
    try {
      await this.repo.setTaskStatus(task.id, 'Doing');
      const trackers = new Map<string, ProgressTracker>();
      const changeId = change.id;
      const ctx: TaskContext<unknown, unknown> = {
        change: changeId,
        task: String(task.id),
        owner: (await this.repo.owner(Number(changeId))) ?? rootOwner,
        data: input.data,
        changeData: input.changeData,
        previous,
        signal,
        progress: (phase, done, total, detail) => {
          const { target, unit = 'bytes', fraction } = typeof detail === 'string' ? { target: detail } : (detail ?? {});
          const key = target === undefined ? changeId : `${changeId}${targetKeySeparator}${target}`;
          let tracker = trackers.get(key);
          if (!tracker) trackers.set(key, (tracker = new ProgressTracker(() => this.clock.now())));
          const p = tracker.update({ phase, done, total, unit, ...(fraction === undefined ? {} : { fraction }) });
          const event: ProgressEvent = { change: changeId, task: String(task.id), status: 'Doing', ...p, ...(target === undefined ? {} : { target }) };
          this.throttle.push(key, { event, taskId: task.id });
        },
        log: (level, message) => {
          void this.repo.addLog(task.id, { time: new Date(this.clock.now()).toISOString(), level, message }).catch(() => {});
          this.logger[level](message, { change: changeId, task: task.id });
        },
      };
      const result = await entry.kind.run(ctx);
      this.flushProgress(changeId);
      await this.repo.setTaskStatus(task.id, 'Done', { result });
      return { ok: true, result };
    } catch (err) {
      this.flushProgress(change.id);
      if (isCoreforgeError(err)) {
        // A task may fail with a partial result (a flash that failed one of three drives reports the other two).
        const partial = err.details?.result;
        const details = errDetailsOf(err.details);
        return { ok: false, message: err.message, kind: err.kind, ...(partial === undefined ? {} : { result: partial }), ...(details ? { details } : {}) };
      }
      const e = err as Error;
      if (!signal.aborted) this.logger.error(`task failed unexpectedly: ${e.stack ?? e.message}`, { change: change.id });
      return { ok: false, message: `internal error: ${e.message}`, kind: 'internal-error' };
    } finally {
      entry.slots.release();
    }
  }

  private async endAborted(id: number, kind: string, signal: AbortSignal, taskId?: number): Promise<void> {
    const byUser = (signal.reason as AbortReason) === 'user';
    if (taskId !== undefined) await this.repo.setTaskStatus(taskId, byUser ? 'Abort' : 'Error', { err: byUser ? 'aborted' : 'daemon stopped' });
    await this.repo.holdRemainingTasks(id);
    if (byUser) await this.finish(id, kind, 'Abort', { err: 'aborted by request', errKind: 'aborted' });
    else await this.finish(id, kind, 'Error', { err: 'daemon stopped', errKind: 'interrupted' });
  }

  private async finish(
    id: number,
    kind: string,
    status: ChangeStatus,
    extra: { err?: string; errKind?: string; errDetails?: Record<string, unknown>; result?: unknown },
  ): Promise<void> {
    if (status !== 'Done') await this.repo.holdRemainingTasks(id);
    await this.repo.setChangeStatus(id, status, extra);
    this.throttle.endMatching(ofChange(String(id)));
    const level = status === 'Done' ? 'info' : 'warn';
    this.logger[level](`change ${status.toLowerCase()}${extra.err ? `: ${extra.err}` : ''}`, { change: id });
    this.announce(id, kind, status, extra.err);
  }

  /** Delivers the held progress of a change, of every target, before its status moves on. */
  private flushProgress(changeId: string): void {
    this.throttle.flushMatching(ofChange(changeId));
  }

  private announce(id: number, kind: string, status: ChangeStatus, err?: string): void {
    const event: StatusEvent = { change: String(id), kind, status, ...(err ? { err } : {}) };
    for (const listener of this.statusListeners) listener(event);
  }
}
