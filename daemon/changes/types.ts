/** Lifecycle of a change and of each of its tasks, as snapd names them. */
export type ChangeStatus = 'Do' | 'Doing' | 'Done' | 'Error' | 'Abort';
/** Hold: a task that will not run because an earlier task failed or the change was aborted. */
export type TaskStatus = ChangeStatus | 'Hold';

export const readyStatuses: readonly ChangeStatus[] = ['Done', 'Error', 'Abort'];

export function isReady(status: ChangeStatus): boolean {
  return readyStatuses.includes(status);
}

/** What a progress count counts: bytes of data, or the steps of a task that has no byte measure (key creation). */
export type ProgressUnit = 'bytes' | 'steps';

/** How far a task got, as it reports it; the engine's meter (changes/progress.ts) adds speed, ETA and percentage. */
export interface ProgressReport {
  phase: string;
  done: number;
  /** null (or 0) while unknown or when there is nothing to count (a build step that only names itself). */
  total: number | null;
  unit: ProgressUnit;
  /** 0-1: how far through its input the phase is while `total` is unknown (a compressed image's position in its file). */
  fraction?: number;
}

/** What a task may tell besides (phase, done, total) when it reports progress. */
export interface ProgressDetail {
  /** The item reported on when one task works on several at once (a flash's drive path); each item gets its own meter and throttle. */
  target?: string;
  /** Default 'bytes'. */
  unit?: ProgressUnit;
  /** See ProgressReport.fraction. */
  fraction?: number | undefined;
}

/**
 * The one progress shape: made by the engine's meter, stored with the task,
 * pushed over socket.io and drawn by the CLI, for flashes, downloads, builds
 * and key creation alike.
 */
export interface TaskProgress {
  phase: string;
  /** Units done in this phase. */
  done: number;
  /** The same count as `done`, under the name clients read before units existed (steps when unit is 'steps'). */
  bytes: number;
  /** Units this phase will handle; null while unknown. */
  total: number | null;
  unit: ProgressUnit;
  /** Units per second over a short recent window; 0 until measurable. */
  speed: number;
  /** Seconds left at the current speed; null while unknown. */
  eta: number | null;
  /** 0-100 with one decimal; null while unknown. */
  percentage: number | null;
}

export interface TaskLogEntry {
  time: string;
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
}

/** A task as the API shows it. */
export interface TaskInfo {
  id: string;
  kind: string;
  summary: string;
  status: TaskStatus;
  progress: TaskProgress | null;
  log: TaskLogEntry[];
  'spawn-time': string;
  'ready-time': string | null;
  err?: string;
}

/** Who started a change: the caller's ids as the kernel gave them (see daemon/caller). */
export interface ChangeOwner {
  pid: number;
  uid: number;
  gid: number;
  groups: number[];
}

/** A change as the API shows it. */
export interface ChangeInfo {
  id: string;
  kind: string;
  summary: string;
  status: ChangeStatus;
  ready: boolean;
  /** The uid that started it; null for changes from before owners were kept (root's). */
  owner: number | null;
  'spawn-time': string;
  'ready-time': string | null;
  err?: string;
  'err-kind'?: string;
  /** Machine-readable facts of the error (the drive and byte range, the field, the tool...), when it has any. */
  'err-details'?: Record<string, unknown>;
  tasks: TaskInfo[];
  data: Record<string, unknown>;
  result?: unknown;
}

/** One live progress event, pushed over socket.io and rendered by the CLI. */
export interface ProgressEvent extends TaskProgress {
  change: string;
  task: string | null;
  status: ChangeStatus;
  /** The item this progress is about when one task works on several at once (a flash's drive path). */
  target?: string;
}

/** What a caller asks for when it starts a long operation. */
export interface NewChange {
  kind: string;
  summary: string;
  /** Who asks for it: its tasks act with these rights, and only it and root may see or abort it. */
  owner: ChangeOwner;
  /** Shown with the change; checked by the parseChangeData of each of its tasks' kinds that has one. */
  data?: object;
  /** Each task's data is checked by its kind's parseData before anything is stored. */
  tasks: { kind: string; summary: string; data?: object }[];
}
