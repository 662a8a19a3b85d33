/** HTTP replies as console-conf reads them: through an injectable fetch, with a cap on the body size. */

/** The part of WHATWG fetch console-conf uses (globalThis.fetch by default; tests and other transports inject one). */
export type FetchFn = (url: string, init?: { signal?: AbortSignal; headers?: Record<string, string> }) => Promise<FetchReply>;

export interface FetchReply {
  status: number;
  headers?: { get(name: string): string | null };
  /** the body as a stream; when absent, text() is all there is */
  body?: ReadableStream<Uint8Array> | null;
  text(): Promise<string>;
}

/** A body over its cap; the caller says which reply it was in its own words. */
export class BodyTooLarge extends Error {
  constructor(
    readonly limit: number,
    /** the Content-Length the server announced, when that is what gave it away */
    readonly declared?: number,
  ) {
    super(`the reply is over ${limit} bytes`);
  }
}

/**
 * The body as UTF-8, refused as soon as it is known to be over `max` bytes:
 * from Content-Length before any of it is read, else while streaming, where
 * the stream is cancelled (which drops the connection) instead of read to its end.
 */
export async function readCapped(res: FetchReply, max: number): Promise<string> {
  const declared = Number(res.headers?.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > max) {
    await res.body?.cancel().catch(() => {});
    throw new BodyTooLarge(max, declared);
  }
  if (!res.body) {
    // an injected fetch without a stream: its text is already in memory
    const text = await res.text();
    if (Buffer.byteLength(text) > max) throw new BodyTooLarge(max);
    return text;
  }
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > max) {
      await reader.cancel().catch(() => {});
      throw new BodyTooLarge(max);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}
