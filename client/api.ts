import type { BuildInfo, BuildRequest, GadgetLayoutResult, GadgetValidateRequest, ChangeInfo, ChangeSelect, DriveInfo, FlashRequest, SystemInfo } from '../daemon/api/types.js';
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

  /** Candidate drives with verdicts; with `image`, verdicts also judge the drives against that image. */
  drives(opts: { includeLoop?: boolean; image?: string; bmap?: string; allowSystemDrives?: string[]; force?: boolean } = {}): Promise<DriveInfo[]> {
    const query = new URLSearchParams();
    if (opts.includeLoop) query.set('include-loop', 'true');
    if (opts.image) query.set('image', opts.image);
    if (opts.bmap) query.set('bmap', opts.bmap);
    if (opts.allowSystemDrives?.length) query.set('allow-system-drive', opts.allowSystemDrives.join(','));
    if (opts.force) query.set('force', 'true');
    const q = query.toString();
    return this.transport.call('GET', `/v1/drives${q ? `?${q}` : ''}`);
  }

  /** Starts a flash; returns the change id. */
  flash(request: FlashRequest): Promise<string> {
    return this.transport.call('POST', '/v1/flash', request);
  }

  /** Starts a build; resolves with its change id (also the build id). */
  startBuild(request: BuildRequest): Promise<string> {
    return this.transport.call('POST', '/v1/builds', request);
  }

  builds(): Promise<BuildInfo[]> {
    return this.transport.call('GET', '/v1/builds');
  }

  build(id: string): Promise<BuildInfo> {
    return this.transport.call('GET', `/v1/builds/${encodeURIComponent(id)}`);
  }

  validateGadget(request: GadgetValidateRequest): Promise<GadgetLayoutResult> {
    return this.transport.call('POST', '/v1/gadget/validate', request);
  }

  close(): void {
    this.transport.close();
  }
}
