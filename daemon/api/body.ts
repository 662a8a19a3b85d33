import type { IncomingMessage } from 'node:http';
import { ApiError } from './errors.js';

export const maxBodyBytes = 1024 * 1024;

/**
 * Reads a request body as a JSON object: the content type must be JSON, the
 * size at most 1 MiB, and the value an object, so every handler can trust
 * `req.body` to be a plain object.
 */
export async function readJsonBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const length = req.headers['content-length'];
  const hasBody = (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined;
  if (!hasBody) return {};
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') {
    req.resume();
    throw new ApiError(
      'unsupported-content-type',
      `cannot read request body: content type ${JSON.stringify(type || '(none)')} is not supported; send JSON with "Content-Type: application/json"`,
    );
  }
  if (length !== undefined && Number(length) > maxBodyBytes) {
    req.resume();
    throw new ApiError('body-too-large', `cannot read request body: ${length} bytes is over the limit of ${maxBodyBytes} bytes (1 MiB)`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBodyBytes) {
      req.resume();
      throw new ApiError('body-too-large', `cannot read request body: it is over the limit of ${maxBodyBytes} bytes (1 MiB)`);
    }
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ApiError('malformed-json', `cannot decode request body as JSON: ${(err as Error).message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    const got = value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value;
    throw new ApiError('bad-request', `cannot use request body: expected a JSON object, got ${got}`);
  }
  return value as Record<string, unknown>;
}
