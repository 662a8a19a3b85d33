import type {
  LogoutResult,
  RegisterKeyResult,
  StoreAccountAddRequest,
  StoreAccountInfo,
  StoreAccountResult,
  StoreAddResult,
  StoreReleaseResult,
  StoreSnapInfo,
} from '../daemon/api/types.js';
import type { CoreforgeClient } from './api.js';

/** Typed calls to the login, account and local store endpoints (kept apart from api.ts, which many features share). */
export class StoreApiClient {
  constructor(private readonly client: CoreforgeClient) {}

  login(email: string, password: string, otp?: string): Promise<StoreAccountResult> {
    return this.client.transport.call('POST', '/v1/login', { email, password, ...(otp ? { otp } : {}) });
  }

  logout(): Promise<LogoutResult> {
    return this.client.transport.call('POST', '/v1/logout', {});
  }

  account(): Promise<StoreAccountResult> {
    return this.client.transport.call('GET', '/v1/account');
  }

  registerKey(name: string, passphrase: string): Promise<RegisterKeyResult> {
    return this.client.transport.call('POST', `/v1/keys/${encodeURIComponent(name)}/register`, { passphrase });
  }

  addSnap(path: string, channel?: string): Promise<StoreAddResult> {
    return this.client.transport.call('POST', '/v1/store/snaps', { path, ...(channel ? { channel } : {}) });
  }

  snaps(): Promise<StoreSnapInfo[]> {
    return this.client.transport.call('GET', '/v1/store/snaps');
  }

  release(name: string, revision: number, channel: string): Promise<StoreReleaseResult> {
    return this.client.transport.call('POST', `/v1/store/snaps/${encodeURIComponent(name)}/release`, { revision, channel });
  }

  addAccount(request: StoreAccountAddRequest): Promise<StoreAccountInfo> {
    return this.client.transport.call('POST', '/v1/store/accounts', request);
  }

  accounts(): Promise<StoreAccountInfo[]> {
    return this.client.transport.call('GET', '/v1/store/accounts');
  }

  /** Starts a store download; returns the change id. */
  download(name: string, channel: string, architecture: string): Promise<string> {
    return this.client.transport.call('POST', '/v1/store/downloads', { name, channel, architecture });
  }
}
