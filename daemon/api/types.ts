/**
 * Every request and response shape of the coreforged API, shared by the daemon
 * and the `coreforge` client. The client imports only from this file.
 */
import type { ApiErrorKind } from './errors.js';
import type { FlashTaskResult, FlashTaskTargetResult } from '../flash/task-data.js';
import type { ToolInfo } from '../system/tools.js';
export type { ToolInfo } from '../system/tools.js';
export type { ApiErrorKind } from './errors.js';
export type {
  ChangeInfo,
  ChangeStatus,
  ProgressEvent,
  ProgressUnit,
  TaskInfo,
  TaskLogEntry,
  TaskProgress,
  TaskStatus,
} from '../changes/types.js';
export type { StatusEvent } from '../changes/engine.js';
export type * from './types-keys.js';
export type * from './types-store.js';
export type * from './types-builds.js';

export interface SyncResponse<T = unknown> {
  type: 'sync';
  'status-code': number;
  status: string;
  result: T;
}

export interface AsyncResponse {
  type: 'async';
  'status-code': 202;
  status: 'Accepted';
  change: string;
}

export interface ErrorResult {
  message: string;
  kind: ApiErrorKind;
  value?: unknown;
}

export interface ErrorResponse {
  type: 'error';
  'status-code': number;
  status: string;
  result: ErrorResult;
}

export type ApiResponse<T = unknown> = SyncResponse<T> | AsyncResponse | ErrorResponse;

export interface SystemInfo {
  version: string;
  'state-dir': string;
  socket: string;
  'socket-activated': boolean;
  pid: number;
  'uptime-seconds': number;
  'started-at': string;
  node: string;
  tools: ToolInfo[];
  /** the store services in use; `local` is the embedded store's server when it listens */
  store?: { api: string; sso: string; dashboard: string; local?: string };
}

/** `GET /v1/changes?select=` */
export type ChangeSelect = 'all' | 'in-progress' | 'ready';

/** `POST /v1/changes/{id}` */
export interface ChangeActionRequest {
  action: 'abort';
}

/** socket.io: what a client sends to start receiving events. */
export interface SubscribeRequest {
  /** A change id, or "*" for every change. */
  change: string;
}

/** socket.io event names. */
export const events = {
  subscribe: 'subscribe',
  unsubscribe: 'unsubscribe',
  progress: 'progress',
  status: 'status',
  /** Drives attached or detached (`DrivesEvent`), for clients subscribed with `{topic: "drives"}`. */
  drives: 'drives',
} as const;

/** socket.io: what a client sends (with `subscribe`/`unsubscribe`) to receive drive attach/detach events. */
export interface DrivesSubscribeRequest {
  topic: 'drives';
}

/** A drive's safety verdict: system, source, read-only and too-small are refused; mounted (unmounted before writing) and large are warnings. */
export type DriveVerdict = 'ok' | 'system' | 'source' | 'read-only' | 'too-small' | 'mounted' | 'large';

/** A partition of a drive, shown before the drive is erased. */
export interface PartitionInfo {
  path: string;
  size: number;
  'fs-type': string;
  label: string;
  mountpoints: string[];
}

/** `GET /v1/drives`: a candidate target drive with its verdict and the reasons for it. */
export interface DriveInfo {
  path: string;
  name: string;
  size: number;
  model: string;
  vendor: string;
  serial: string;
  /** usb, mmc, sata, nvme, loop... ("" when unknown). */
  bus: string;
  removable: boolean;
  'read-only': boolean;
  loop: boolean;
  mountpoints: string[];
  holders: string[];
  partitions: PartitionInfo[];
  'backing-file': string | null;
  verdict: DriveVerdict;
  reasons: string[];
}

/** socket.io `drives` event: what changed, and every drive now present (loop devices included). */
export interface DrivesEvent {
  attached: DriveInfo[];
  detached: DriveInfo[];
  drives: DriveInfo[];
}

/** One drive of a flash, as the client listed it: a drive whose size or serial changed since is refused. */
export interface FlashTargetRequest {
  path: string;
  size: number;
  serial?: string;
}

/** `POST /v1/flash` */
export interface FlashRequest {
  /** Absolute path of the image on the daemon's host: .img, or .gz, .xz, .zst. */
  image: string;
  /** Absolute path of a bmap; by default one beside the image is used. */
  bmap?: string;
  targets: FlashTargetRequest[];
  /** Read every drive back and compare (default true). */
  verify?: boolean;
  /** System drives the user named to be erased anyway. */
  'allow-system-drive'?: string[];
  /** Loop devices may be targets only when this is true. */
  'include-loop'?: boolean;
  /** Write an image that starts with no partition table and no known filesystem (refused otherwise). */
  force?: boolean;
}

/** How one drive of a flash fared (an element of `FlashResult.targets`); the fields are the flash task's (daemon/flash/task-data.ts). */
export interface FlashTargetResult extends Omit<FlashTaskTargetResult, 'error'> {
  error: { kind: ApiErrorKind; message: string; details?: Record<string, unknown> } | null;
}

/** The result of a flash change, kept when one drive failed so the others are still reported. */
export interface FlashResult extends Omit<FlashTaskResult, 'targets'> {
  targets: FlashTargetResult[];
}
