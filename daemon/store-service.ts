// Wiring of daemon/store into coreforged: the embedded local store (its root
// trusted by the assertion database once it exists), its HTTP server when
// asked for (--store-listen, or --offline on a private port), and the store
// client pointed at the real services or at that server.
import { join } from 'node:path';
import { encodeAssertion } from './asserts/index.js';
import type { SqliteAssertionDatabase } from './asserts-db/database.js';
import type { Database } from './db/database.js';
import type { Logger } from './log.js';
import { defaultApiUrl, defaultDashboardUrl, defaultSsoUrl, StoreClient } from './store/client/client.js';
import { StoreSnapSource } from './store/client/snap-source.js';
import { LocalStore } from './store/local/store.js';
import { listenStore, type RunningStoreServer } from './store/server/listen.js';

/** The store flags of coreforged. */
export interface StoreConfig {
  storeUrl?: string;
  ssoUrl?: string;
  dashboardUrl?: string;
  /** use the embedded local store instead of the real services */
  offline?: boolean;
  /** serve the local store on ADDR:PORT */
  storeListen?: string;
}

export interface StoreServices {
  localStore: LocalStore;
  client: StoreClient;
  urls: { api: string; sso: string; dashboard: string; local?: string };
  /** The configured store as a source of snaps for image builds of one device architecture. */
  snapSource(architecture: string): StoreSnapSource;
  close(): Promise<void>;
}

/** Sets up the local store, its server and the client for one daemon run. */
export async function setupStore(stateDir: string, cfg: StoreConfig, db: Database, assertions: SqliteAssertionDatabase, logger: Logger): Promise<StoreServices> {
  const localStore = new LocalStore({
    db,
    dir: join(stateDir, 'store'),
    onIdentity: async (id) => {
      await assertions.addTrusted([id.rootAccount, id.rootAccountKey].map(encodeAssertion).join('\n'));
      await assertions.add(encodeAssertion(id.storeAccountKey));
      logger.debug('local store root trusted', { 'account-id': id.accountId });
    },
  });
  let server: RunningStoreServer | undefined;
  if (cfg.storeListen !== undefined || cfg.offline) {
    server = await listenStore(cfg.storeListen ?? '127.0.0.1:0', { store: localStore, log: (l) => logger.error(l) });
    logger.info('local store server listening', { url: server.url });
  }
  const local = server?.url;
  const urls = {
    api: cfg.storeUrl ?? (cfg.offline ? local! : defaultApiUrl),
    sso: cfg.ssoUrl ?? (cfg.offline ? local! : defaultSsoUrl),
    dashboard: cfg.dashboardUrl ?? (cfg.offline ? local! : defaultDashboardUrl),
    ...(local ? { local } : {}),
  };
  const client = new StoreClient({
    apiUrl: urls.api,
    ssoUrl: urls.sso,
    dashboardUrl: urls.dashboard,
    credentialsPath: join(stateDir, 'store-credentials.json'),
    cacheDir: join(stateDir, 'cache'),
  });
  // assertions the device trusts already are not fetched as prerequisites of a snap's assertions
  const known = (type: string, key: string): boolean => {
    const roots = assertions.trustedRoots();
    if (type === 'account-key') return roots.accountKeys.some((k) => k.headers['public-key-sha3-384'] === key);
    return type === 'account' && (roots.accounts ?? []).some((a) => a.headers['account-id'] === key);
  };
  const isLocal = urls.local !== undefined && urls.api === urls.local;
  const label = isLocal ? 'the local store' : `the store at ${urls.api}`;
  return { localStore, client, urls, snapSource: (architecture) => new StoreSnapSource(client, architecture, { label, local: isLocal, known }), close: async () => server?.close() };
}
