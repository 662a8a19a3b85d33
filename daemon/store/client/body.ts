import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { plainHttpGet } from './plain-http.js';

/**
 * A download's response: its status, then its body piece by piece. A piece is
 * valid only during the call that hands it over (its memory is reused), and a
 * promise returned for it pauses receiving until it settles.
 */
export interface BodyResponse {
  status: number;
  /** Resolves once the whole body arrived; rejects with ECONNRESET when it ended early. */
  read(onPiece: (piece: Buffer) => void | Promise<void>): Promise<void>;
  /** Drops the rest of the body and the connection. */
  discard(): void;
}

/** GET `url`: plain http: through coreforge's own receiver (see plain-http.ts), https: through node:https. */
export async function getBody(url: string, headers: Record<string, string>, signal?: AbortSignal): Promise<BodyResponse> {
  if (url.startsWith('http:')) {
    const plain = await plainHttpGet(new URL(url), headers, signal);
    if (plain) return plain;
  }
  return nodeGet(url, headers, signal);
}

function nodeGet(url: string, headers: Record<string, string>, signal?: AbortSignal): Promise<BodyResponse> {
  return new Promise((resolve, reject) => {
    const req = (url.startsWith('https:') ? httpsRequest : httpRequest)(url, { headers, signal }, (res) => resolve(fromIncoming(res)));
    req.on('error', reject);
    req.end();
  });
}

function fromIncoming(res: IncomingMessage): BodyResponse {
  return {
    status: res.statusCode ?? 0,
    discard: () => res.destroy(),
    read: (onPiece) =>
      new Promise<void>((resolve, reject) => {
        res.on('data', (c: Buffer) => {
          let waited: void | Promise<void>;
          try {
            waited = onPiece(c);
          } catch (err) {
            res.destroy();
            reject(err);
            return;
          }
          if (waited) {
            res.pause();
            waited.then(() => res.resume(), (err: unknown) => (res.destroy(), reject(err)));
          }
        });
        res.on('end', () => (res.complete ? resolve() : reject(new Error('ECONNRESET'))));
        res.on('aborted', () => reject(new Error('ECONNRESET')));
        res.on('error', reject);
      }),
  };
}
