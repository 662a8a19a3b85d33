/**
 * Every request and response shape of the coreforged API, shared by the daemon
 * and the `coreforge` client. The client imports only from this file.
 */
import type { ApiErrorKind } from './errors.js';
export type { ApiErrorKind } from './errors.js';
export type {
  ChangeInfo,
  ChangeStatus,
  ProgressEvent,
  TaskInfo,
  TaskLogEntry,
  TaskProgress,
  TaskStatus,
} from '../changes/types.js';
export type { StatusEvent } from '../changes/engine.js';

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

/** One external program coreforge relies on, as `GET /v1/system-info` reports it. */
export interface ToolInfo {
  name: string;
  /** Debian package that provides it. */
  package: string;
  required: boolean;
  /** What coreforge uses it for. */
  purpose: string;
  present: boolean;
  path: string | null;
  version: string | null;
}

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
} as const;
