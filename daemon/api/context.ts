import type { ChangeEngine } from '../changes/engine.js';
import type { Database } from '../db/database.js';
import type { Logger } from '../log.js';
import type { ToolInfo } from './types.js';

/** Everything a route handler may use; built once by daemon/main.ts. */
export interface DaemonContext {
  version: string;
  stateDir: string;
  socketPath: string;
  socketActivated: boolean;
  startedAt: Date;
  db: Database;
  engine: ChangeEngine;
  logger: Logger;
  /** The external tools as last probed (probing runs in the background, never per request). */
  tools(): ToolInfo[];
}
