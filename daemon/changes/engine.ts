import { type Clock, systemClock } from '../clock.js';
import { CoreforgeError, isCoreforgeError } from '../errors.js';
import type { Logger } from '../log.js';
import { ProgressTracker } from './progress.js';
import type { ChangeRepository, ChangeSelection, RunnableTask } from './repository.js';
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
  | 'interrupted';

/** What a task handler gets: its input, where to report, and when to stop. */
export interface TaskContext {
  change: string;
  task: string;
  /** Who started the change: paths it names are used with these rights. Changes from before owners were kept are root's. */
  owner: ChangeOwner;
  data: Record<string, unknown>;
  changeData: Record<string, unknown>;
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

/** A kind of task: its handler and how many may run at once across all changes. */
export interface TaskKind {
  name: string;
  concurrency?: number;
  run(ctx: TaskContext): Promise<unknown>;
}

export interface StatusEvent {
  change: string;
  kind: string;
  status: ChangeStatus;
  err?: string;
}

type AbortReason = 'user' | 'shutdown';

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
  private kinds = new Map<string, { kind: TaskKind; slots: Slots }>();
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

  register(kind: TaskKind): void {
    if (this.kinds.has(kind.name)) throw new Error(`task kind ${kind.name} registered twice`);
    this.kinds.set(kind.name, { kind, slots: new Slots(kind.concurrency ?? 4) });
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
    for (const task of spec.tasks) {
      if (!this.kinds.has(task.kind)) {
        throw new CoreforgeError<ChangesErrorKind>('unknown-task-kind', `cannot start change: no handler for task kind "${task.kind}"`);
      }
    }
    const id = await this.repo.create(spec);
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
    return change;
  }

  list(select: ChangeSelection): Promise<ChangeInfo[]> {
    return this.repo.list(select);
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
    await this.repo.setChangeStatus(id, 'Doing');
    this.announce(id, change.kind, 'Doing');
    const results: unknown[] = [];
    let lastResult: unknown = undefined;
    for (const task of tasks) {
      if (task.status === 'Done') continue;
      if (signal.aborted) return this.endAborted(id, change.kind, signal);
      const outcome = await this.runTask(change, task, results, signal);
      if (outcome.ok) {
        results.push(outcome.result);
        if (outcome.result !== undefined) lastResult = outcome.result;
        continue;
      }
      if (signal.aborted) return this.endAborted(id, change.kind, signal, task.id);
      await this.repo.setTaskStatus(task.id, 'Error', { err: outcome.message, result: outcome.result });
      return this.finish(id, change.kind, 'Error', { err: outcome.message, errKind: outcome.kind, result: outcome.result });
    }
    if (signal.aborted) return this.endAborted(id, change.kind, signal);
    await this.finish(id, change.kind, 'Done', { result: lastResult });
  }

  private async runTask(
    change: ChangeInfo,
    task: RunnableTask,
    previous: unknown[],
    signal: AbortSignal,
  ): Promise<{ ok: true; result: unknown } | { ok: false; message: string; kind: string; result?: unknown }> {
    const entry = this.kinds.get(task.kind)!;
    if (!(await entry.slots.acquire(signal))) return { ok: false, message: 'aborted', kind: 'aborted' };
    try {
      await this.repo.setTaskStatus(task.id, 'Doing');
      const trackers = new Map<string, ProgressTracker>();
      const changeId = change.id;
      const ctx: TaskContext = {
        change: changeId,
        task: String(task.id),
        owner: (await this.repo.owner(Number(changeId))) ?? rootOwner,
        data: task.data,
        changeData: change.data,
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
        return { ok: false, message: err.message, kind: err.kind, ...(partial === undefined ? {} : { result: partial }) };
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
    extra: { err?: string; errKind?: string; result?: unknown },
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
