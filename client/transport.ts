import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import type { ApiErrorKind, ApiResponse } from '../daemon/api/types.js';

/** The daemon answered with an error envelope. The CLI branches on `kind`, never on the text. */
export class ApiCallError extends Error {
  constructor(
    readonly kind: ApiErrorKind,
    message: string,
    readonly statusCode: number,
    /** The error's machine-readable details (drive, byte range, path, field...), when the daemon sent any. */
    readonly value?: unknown,
  ) {
    super(message);
  }
}

/** The daemon could not be reached at all; the CLI exits 2 with how to start it. */
export class DaemonUnreachableError extends Error {
  constructor(
    readonly socketPath: string,
    readonly code: string,
  ) {
    const why = code === 'ENOENT' ? 'no such socket' : code === 'ECONNREFUSED' ? 'nothing is listening' : code === 'EACCES' ? 'permission denied' : code;
    const fix =
      code === 'EACCES'
        ? 'add yourself to the coreforge group (sudo usermod -aG coreforge $USER, then log in again) or use sudo'
        : `start it with "sudo systemctl start coreforged.socket" or "coreforged --socket ${socketPath} --state-dir DIR"; --socket or COREFORGE_SOCKET selects another socket`;
    super(`cannot reach coreforged at ${socketPath}: ${why} (${code}); ${fix}`);
  }
}

/** An http.Agent whose connections go to a Unix socket: shared by REST calls and socket.io. */
export function unixSocketAgent(socketPath: string): Agent {
  const agent = new Agent({ keepAlive: true });
  (agent as unknown as { createConnection: () => ReturnType<typeof connect> }).createConnection = () => connect(socketPath);
  return agent;
}

/** Talks JSON to coreforged over its Unix socket and unwraps the envelope. */
export class Transport {
  readonly agent: Agent;
  constructor(readonly socketPath: string) {
    this.agent = unixSocketAgent(socketPath);
  }

  /** Returns the envelope as sent; errors stay envelopes (see `call` for throwing). */
  raw<T>(method: string, path: string, body?: unknown): Promise<ApiResponse<T>> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    return this.send<T>(method, path, payload, true);
  }

  private send<T>(method: string, path: string, payload: Buffer | undefined, mayRetry: boolean): Promise<ApiResponse<T>> {
    return new Promise((resolve, reject) => {
      const req = request(
        {
          agent: this.agent,
          host: 'localhost',
          path,
          method,
          headers: payload ? { 'Content-Type': 'application/json', 'Content-Length': payload.length } : {},
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            try {
              resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as ApiResponse<T>);
            } catch {
              reject(new Error(`coreforged sent a reply that is not JSON (HTTP ${res.statusCode}) for ${method} ${path}`));
            }
          });
          res.on('error', reject);
        },
      );
      req.on('error', (err: NodeJS.ErrnoException) => {
        // A kept-alive connection the daemon closed while idle fails on reuse
        // before the request was read: sending it again on a new one is safe.
        if (mayRetry && req.reusedSocket && (err.code === 'ECONNRESET' || err.code === 'EPIPE')) {
          this.send<T>(method, path, payload, false).then(resolve, reject);
          return;
        }
        if (err.code && ['ENOENT', 'ECONNREFUSED', 'EACCES', 'ENOTSOCK', 'ECONNRESET'].includes(err.code)) {
          reject(new DaemonUnreachableError(this.socketPath, err.code));
        } else reject(err);
      });
      if (payload) req.write(payload);
      req.end();
    });
  }

  /** Sync result, or the change id of an async one; throws ApiCallError on an error envelope. */
  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await this.raw<T>(method, path, body);
    if (response.type === 'error') throw new ApiCallError(response.result.kind, response.result.message, response['status-code'], response.result.value);
    if (response.type === 'async') return response.change as T;
    return response.result;
  }

  close(): void {
    this.agent.destroy();
  }
}
