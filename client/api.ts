import type { ChangeInfo, ChangeSelect, SystemInfo } from '../daemon/api/types.js';
import { Transport } from './transport.js';

/** Typed calls to every coreforged endpoint the CLI uses. */
export class CoreforgeClient {
  readonly transport: Transport;
  constructor(readonly socketPath: string) {
    this.transport = new Transport(socketPath);
  }

  systemInfo(): Promise<SystemInfo> {
    return this.transport.call('GET', '/v1/system-info');
  }

  changes(select: ChangeSelect): Promise<ChangeInfo[]> {
    return this.transport.call('GET', `/v1/changes?select=${select}`);
  }

  change(id: string): Promise<ChangeInfo> {
    return this.transport.call('GET', `/v1/changes/${encodeURIComponent(id)}`);
  }

  abort(id: string): Promise<ChangeInfo> {
    return this.transport.call('POST', `/v1/changes/${encodeURIComponent(id)}`, { action: 'abort' });
  }

  close(): void {
    this.transport.close();
  }
}
