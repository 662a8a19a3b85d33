import { connect } from 'node:net';
import type { BodyResponse } from './body.js';

/**
 * GET over plain HTTP/1.1, received into one reused 1 MiB buffer. node:http
 * hands a body over in a fresh 64 KiB buffer per socket read: for a 256 MiB
 * snap from 127.0.0.1 that allocation and its garbage collection took the
 * transfer to 1.6x curl's time, while reading into one buffer is faster than
 * curl. Only what a download needs: one request per connection, a body sized
 * by Content-Length or by the connection's end. A response with a
 * Transfer-Encoding gives undefined, and the caller asks node:http instead.
 */

/** Bytes the status line and headers may take. */
const maxHeadBytes = 64 * 1024;
const receiveBytes = 1 << 20;

interface Head {
  status: number;
  headers: Map<string, string>;
}

function networkError(code: string, message: string): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code });
}

/** Parses a response head (without its final blank line); a string says what is wrong. */
export function parseResponseHead(text: string): Head | string {
  const [statusLine, ...lines] = text.split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})(?: .*)?$/.exec(statusLine ?? '');
  if (!m) return `the status line ${JSON.stringify((statusLine ?? '').slice(0, 80))} is not HTTP/1.x`;
  const headers = new Map<string, string>();
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) return `the header line ${JSON.stringify(line.slice(0, 80))} has no name`;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers.set(name, headers.has(name) ? `${headers.get(name)}, ${value}` : value);
  }
  return { status: Number(m[1]), headers };
}

/** The request text; header values come from the download code, never from a server. */
function requestText(url: URL, headers: Record<string, string>): string {
  const lines = [`GET ${url.pathname}${url.search} HTTP/1.1`, `Host: ${url.host}`, 'Accept: */*', 'Connection: close', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  if (lines.some((l) => /[\r\n]/.test(l))) throw new Error('a request header holds a line break');
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/** Sends a GET and resolves with the response once its head arrived; undefined when its body has a Transfer-Encoding. */
export function plainHttpGet(
  url: URL,
  headers: Record<string, string>,
  signal?: AbortSignal,
  /** a connection that sends nothing for this long while the client waits is given up (and retried by the caller) */
  idleTimeoutMs = 60_000,
): Promise<BodyResponse | undefined> {
  const request = requestText(url, headers);
  return new Promise((resolveHead, rejectHead) => {
    signal?.throwIfAborted();
    let phase: 'head' | 'waiting' | 'body' | 'over' = 'head';
    let head = Buffer.alloc(0);
    let early: Buffer | undefined;
    /** body bytes still to come; undefined: until the connection ends */
    let remaining: number | undefined;
    let onPiece: (piece: Buffer) => void | Promise<void> = () => {};
    let settle: { resolve(): void; reject(err: unknown): void } = { resolve: () => {}, reject: () => {} };

    const fail = (err: unknown) => {
      const was = phase;
      phase = 'over';
      socket.destroy();
      if (was === 'head') rejectHead(err);
      else if (was === 'body') settle.reject(err);
    };
    const finish = () => {
      phase = 'over';
      socket.destroy();
      settle.resolve();
    };
    /** Hands a piece over; false pauses receiving (the consumer is busy, or the body is complete). */
    const deliver = (piece: Buffer): boolean => {
      const wanted = remaining === undefined ? piece : piece.subarray(0, remaining);
      if (remaining !== undefined) remaining -= wanted.length;
      let waited: void | Promise<void>;
      try {
        waited = wanted.length > 0 ? onPiece(wanted) : undefined;
      } catch (err) {
        fail(err);
        return false;
      }
      if (remaining === 0) {
        if (waited) waited.then(finish, fail);
        else finish();
        return false;
      }
      if (!waited) return true;
      waited.then(() => phase === 'body' && socket.resume(), fail);
      return false;
    };
    const onHead = (bytes: Buffer): boolean => {
      const joined = Buffer.concat([head, bytes]);
      const end = joined.indexOf('\r\n\r\n');
      if (end < 0) {
        if (joined.length > maxHeadBytes) fail(networkError('EPROTO', `the response head from ${url.host} is longer than ${maxHeadBytes} bytes`));
        head = joined;
        return phase === 'head';
      }
      const parsed = parseResponseHead(joined.subarray(0, end).toString('latin1'));
      if (typeof parsed === 'string') {
        fail(networkError('EPROTO', `the response from ${url.host} is not HTTP: ${parsed}`));
        return false;
      }
      if (parsed.headers.has('transfer-encoding')) {
        phase = 'over';
        socket.destroy();
        resolveHead(undefined);
        return false;
      }
      const length = parsed.headers.get('content-length');
      if (length !== undefined && !/^\d{1,15}$/.test(length)) {
        fail(networkError('EPROTO', `the response from ${url.host} has a bad Content-Length ${JSON.stringify(length.slice(0, 40))}`));
        return false;
      }
      remaining = length === undefined ? undefined : Number(length);
      early = Buffer.from(joined.subarray(end + 4));
      phase = 'waiting';
      resolveHead({ status: parsed.status, read, discard: () => fail(new Error('discarded')) });
      return false;
    };
    const read = (consumer: (piece: Buffer) => void | Promise<void>): Promise<void> =>
      new Promise<void>((resolve, reject) => {
        if (phase !== 'waiting') {
          reject(new Error('the response body was already read or dropped'));
          return;
        }
        phase = 'body';
        onPiece = consumer;
        settle = { resolve, reject };
        if (remaining === 0) finish();
        else if (!early || early.length === 0 || deliver(early)) socket.resume();
        early = undefined;
      });

    const socket = connect({
      host: url.hostname.replace(/^\[|\]$/g, ''),
      port: Number(url.port || 80),
      onread: {
        buffer: Buffer.allocUnsafeSlow(receiveBytes),
        callback: (n: number, buffer: Uint8Array): boolean => {
          const bytes = Buffer.from(buffer.buffer, buffer.byteOffset, n);
          if (phase === 'head') return onHead(bytes);
          if (phase === 'body') return deliver(bytes);
          return false;
        },
      },
    });
    socket.setNoDelay(true);
    socket.setTimeout(idleTimeoutMs, () => fail(networkError('ETIMEDOUT', `${url.host} sent nothing for ${idleTimeoutMs / 1000} s`)));
    socket.on('connect', () => socket.write(request));
    socket.on('error', fail);
    socket.on('end', () => {
      if (phase === 'body' && remaining === undefined) finish();
      else fail(networkError('ECONNRESET', `${url.host} closed the connection before the whole response arrived`));
    });
    const onAbort = () => fail(signal!.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.on('close', () => {
      signal?.removeEventListener('abort', onAbort);
      fail(networkError('ECONNRESET', `the connection to ${url.host} closed before the whole response arrived`));
    });
  });
}
