import type {
  AddAssertionsResult,
  AssertionVerdict,
  ChangeInfo,
  ImportKeyRequest,
  KeyExport,
  KeyInfo,
  SignRequest,
  SignResult,
} from '../daemon/api/types.js';
import type { CoreforgeClient } from './api.js';

const path = (name: string) => `/v1/keys/${encodeURIComponent(name)}`;

/** Typed calls to the keys, sign and assertions endpoints (kept apart from api.ts, which many features share). */
export class KeysClient {
  constructor(private readonly client: CoreforgeClient) {}

  list(): Promise<KeyInfo[]> {
    return this.client.transport.call('GET', '/v1/keys');
  }

  /** Starts key creation; returns the change id. */
  create(name: string, passphrase: string): Promise<string> {
    return this.client.transport.call('POST', '/v1/keys', { action: 'create', name, passphrase });
  }

  import(request: Omit<ImportKeyRequest, 'action'>): Promise<KeyInfo> {
    return this.client.transport.call('POST', '/v1/keys', { action: 'import', ...request });
  }

  exportPublicKey(name: string): Promise<KeyExport> {
    return this.client.transport.call('GET', path(name));
  }

  exportRequest(name: string, accountId: string, passphrase: string): Promise<KeyExport> {
    return this.client.transport.call('GET', `${path(name)}?format=account-key-request&account-id=${encodeURIComponent(accountId)}`, { passphrase });
  }

  delete(name: string, passphrase: string): Promise<KeyInfo> {
    return this.client.transport.call('DELETE', path(name), { passphrase });
  }

  sign(request: SignRequest): Promise<SignResult> {
    return this.client.transport.call('POST', '/v1/sign', request);
  }

  verify(assertions: string, trusted?: string, lookup: string[] = []): Promise<AssertionVerdict[]> {
    return this.client.transport.call('POST', '/v1/assertions/verify', { assertions, lookup, ...(trusted !== undefined ? { trusted } : {}) });
  }

  add(assertions: string, trusted = false): Promise<AddAssertionsResult> {
    return this.client.transport.call('POST', '/v1/assertions', { assertions, ...(trusted ? { trusted: true } : {}) });
  }

  change(id: string): Promise<ChangeInfo> {
    return this.client.change(id);
  }
}
