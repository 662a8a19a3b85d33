import type { ChangeEngine } from '../changes/engine.js';
import type { StoreClient } from '../store/client/client.js';
import type { LocalStore } from '../store/local/store.js';
import type { Database } from '../db/database.js';
import type { SqliteAssertionDatabase } from '../asserts-db/database.js';
import type { ImageDigests } from '../image/pipeline/image-digests.js';
import type { BuildRepository } from '../image/pipeline/repository.js';
import type { Keyring } from '../keys/keyring.js';
import type { PassphraseVault } from '../keys/passphrases.js';
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
  /** The signing keys (daemon/keys). */
  keyring: Keyring;
  /** Passphrases held in memory between a request and the change task that uses them. */
  passphrases: PassphraseVault;
  /** The assertion database in state.db (daemon/asserts-db). */
  assertions: SqliteAssertionDatabase;
  /** The store client (remote services, or the embedded store's server with --offline), with root's store login. */
  store: StoreClient;
  /** The store client with one caller's own store login (each user of the daemon logs in as itself). */
  storeFor(uid: number): StoreClient;
  /** The embedded local store (daemon/store/local). */
  localStore: LocalStore;
  /** The store URLs in use, and the local store server's URL when it listens. */
  storeUrls: { api: string; sso: string; dashboard: string; local?: string };
  /** Image builds recorded in state.db (daemon/image/build). */
  builds: BuildRepository;
  /** SHA-256 of finished images, computed after their builds. */
  imageDigests: ImageDigests;
}
