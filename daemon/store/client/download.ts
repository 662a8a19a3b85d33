// Downloading a snap into the cache: resumable with Range, retried with
// backoff on network errors and 5xx, hashed (SHA3-384) while it streams,
// checked against the snap-revision's digest and size, then renamed into
// cache/SHA3-384. The cache keeps at most `limitBytes`, least recently used first out.
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, rename, stat, unlink, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { storeError } from '../errors.js';
import { getBody } from './body.js';
import { FileAppender } from './file-appender.js';
import { inlineHasher, workerHasher, type Hasher } from './hasher.js';
import { defaultRetry, describeNetworkError, type RetryPolicy } from './http.js';

/** What to download and how to check it. */
export interface DownloadTarget {
  name: string;
  url: string;
  sha3_384: string;
  size: number;
}

/** Progress: bytes done of total. */
export type DownloadProgress = (done: number, total: number) => void;

export interface DownloadResult {
  path: string;
  /** bytes fetched over the network in this call (0 on a cache hit) */
  downloaded: number;
  cached: boolean;
}

const sleeper = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The snap cache: files named by SHA3-384 (base64url) in one directory. */
export class SnapCache {
  constructor(
    readonly dir: string,
    readonly limitBytes: number,
  ) {}

  path(sha3_384: string): string {
    return join(this.dir, sha3_384);
  }

  /** The cached file of a digest when present with the right size (touched: it was just used). */
  async hit(t: DownloadTarget): Promise<string | undefined> {
    const p = this.path(t.sha3_384);
    try {
      if ((await stat(p)).size !== t.size) return undefined;
      const now = new Date();
      await utimes(p, now, now);
      return p;
    } catch {
      return undefined;
    }
  }

  /** Removes least recently used files until the cache fits its limit, keeping `keep`. */
  async trim(keep: string): Promise<void> {
    const files = [];
    for (const f of await readdir(this.dir)) {
      if (f.endsWith('.partial') || f.startsWith('.')) continue;
      const s = await stat(join(this.dir, f)).catch(() => undefined);
      if (s?.isFile()) files.push({ f, size: s.size, used: s.mtimeMs });
    }
    let total = files.reduce((n, x) => n + x.size, 0);
    for (const x of files.sort((a, b) => a.used - b.used)) {
      if (total <= this.limitBytes) break;
      if (x.f === keep) continue;
      await unlink(join(this.dir, x.f)).catch(() => {});
      total -= x.size;
    }
  }
}

async function hashFile(path: string, h: Hasher): Promise<number> {
  let n = 0;
  for await (const c of createReadStream(path, { highWaterMark: 1 << 20 })) {
    h.update(c as Buffer);
    n += (c as Buffer).length;
    if (h.full()) await h.room();
  }
  return n;
}

/** Files above this are hashed in a worker thread, overlapping the download. */
const workerThreshold = 8 << 20;

/** One GET (ranged from `have`) written into `partial` from `have` on and fed to `h`; used by downloadSnap and bench/store. */
export async function fetchInto(t: DownloadTarget, partial: string, h: Hasher, have: number, progress: DownloadProgress, signal?: AbortSignal): Promise<{ got: number; restart?: boolean; status?: number }> {
  const res = await getBody(t.url, have > 0 ? { range: `bytes=${have}-` } : {}, signal);
  if (res.status !== 200 && res.status !== 206) {
    res.discard();
    return { got: 0, status: res.status };
  }
  if (have > 0 && res.status === 200) {
    // the server ignored Range: start over
    res.discard();
    return { got: 0, restart: true };
  }
  const file = await open(partial, have > 0 ? 'r+' : 'w');
  const out = new FileAppender(file, have);
  let got = 0;
  const failure = await res
    .read((piece) => {
      h.update(piece);
      got += piece.length;
      progress(have + got, t.size);
      const writing = out.append(piece);
      const hashing = h.full() ? h.room() : undefined;
      return writing && hashing ? Promise.all([writing, hashing]).then(() => {}) : (writing ?? hashing);
    })
    .then(
      () => undefined,
      (err: unknown) => err ?? new Error('the download failed'),
    );
  // what arrived is kept, even after a failure: the next attempt resumes from it
  try {
    await out.close();
  } catch (err) {
    if (!failure) throw err;
  } finally {
    await file.close();
  }
  if (failure) throw failure;
  return { got };
}

/** Downloads a snap into the cache (or finds it there). */
export async function downloadSnap(
  t: DownloadTarget,
  cache: SnapCache,
  options: { progress?: DownloadProgress; retry?: RetryPolicy; signal?: AbortSignal } = {},
): Promise<DownloadResult> {
  const progress = options.progress ?? (() => {});
  const retry = options.retry ?? defaultRetry;
  const sleep = retry.sleep ?? sleeper;
  await mkdir(cache.dir, { recursive: true });
  const hit = await cache.hit(t);
  if (hit) {
    progress(t.size, t.size);
    return { path: hit, downloaded: 0, cached: true };
  }
  const final = cache.path(t.sha3_384);
  const partial = `${final}.partial`;
  let downloaded = 0;
  let mismatches = 0;
  let failures = 0;
  let last = '';
  for (;;) {
    options.signal?.throwIfAborted();
    const h = t.size > workerThreshold ? workerHasher() : inlineHasher();
    try {
      let have = 0;
      try {
        have = await hashFile(partial, h);
      } catch {
        have = 0;
      }
      if (have > t.size) {
        await unlink(partial);
        continue;
      }
      let r: Awaited<ReturnType<typeof fetchInto>> = { got: 0 };
      if (have < t.size) {
        try {
          r = await fetchInto(t, partial, h, have, progress, options.signal);
        } catch (err) {
          if (options.signal?.aborted) throw err;
          // keep what arrived: the next attempt resumes with Range
          const s = await stat(partial).catch(() => undefined);
          downloaded += Math.max(0, (s?.size ?? 0) - have);
          last = describeNetworkError(err);
          if (++failures >= retry.attempts) break;
          await sleep(retry.baseDelayMs * 2 ** (failures - 1));
          continue;
        }
        downloaded += r.got;
        if (r.restart) {
          await unlink(partial).catch(() => {});
          continue;
        }
        if (r.status !== undefined) {
          if (r.status < 500) throw storeError('store-error', `cannot download snap ${JSON.stringify(t.name)}: the store answered ${r.status} for ${t.url}`);
          last = `it answered with status ${r.status}`;
          if (++failures >= retry.attempts) break;
          await sleep(retry.baseDelayMs * 2 ** (failures - 1));
          continue;
        }
        if (have + r.got < t.size) {
          last = 'the download ended early';
          if (++failures >= retry.attempts) break;
          continue;
        }
      }
      const size = have + r.got;
      const digest = await h.digest();
      if (size === t.size && digest === t.sha3_384) {
        await rename(partial, final);
        await cache.trim(t.sha3_384);
        return { path: final, downloaded, cached: false };
      }
      await unlink(partial).catch(() => {});
      if (++mismatches >= 2) {
        throw storeError(
          'digest-mismatch',
          `cannot download snap ${JSON.stringify(t.name)}: the file from ${new URL(t.url).origin} does not match its snap-revision (sha3-384 ${digest}, ${size} bytes; expected ${t.sha3_384}, ${t.size} bytes), twice; the store is serving a corrupt file, try again later or tell its operator`,
        );
      }
    } finally {
      h.dispose();
    }
  }
  throw storeError('store-unreachable', `cannot download snap ${JSON.stringify(t.name)} from ${new URL(t.url).origin}: ${last} (tried ${retry.attempts} times); check the network and try again, the partial download is kept and resumed`);
}
