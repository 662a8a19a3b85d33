import { realpath } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import type { Caller } from '../caller/caller.js';
import type { TaskKind } from '../changes/engine.js';
import { CoreforgeError, isCoreforgeError } from '../errors.js';
import { type Drive, type FlashResult as LibFlashResult, flashImage, listDrives, watchDrives } from '../flash/index.js';
import type { UnmountCommand } from '../flash/unmount.js';
import { flashError } from '../flash/errors.js';
import { requireDiskImage } from '../flash/check-image.js';
import { loadBmap } from '../flash/find-bmap.js';
import { openImageSource } from '../flash/open-source.js';
import { ApiError } from './errors.js';
import { asyncResponse, syncResponse } from './response.js';
import type { Route } from './routes.js';
import type { ApiErrorKind, DriveInfo, DrivesEvent, FlashRequest, FlashResult, FlashTargetRequest, FlashTargetResult } from './types.js';

/** The API shape of a drive (kebab-case fields, as every API answer). */
export function toDriveInfo(d: Drive): DriveInfo {
  return {
    path: d.path,
    name: d.name,
    size: d.size,
    model: d.model,
    vendor: d.vendor,
    serial: d.serial,
    bus: d.bus,
    removable: d.removable,
    'read-only': d.readOnly,
    loop: d.isLoop,
    mountpoints: d.mountpoints,
    holders: d.holders,
    partitions: d.partitions.map((p) => ({ path: p.path, size: p.size, 'fs-type': p.fsType, label: p.label, mountpoints: p.mountpoints })),
    'backing-file': d.backingFile,
    verdict: d.verdict,
    reasons: d.reasons,
  };
}

function booleanParam(value: string | undefined, name: string): boolean {
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  throw new ApiError('bad-request', `cannot list drives: ${name}=${JSON.stringify(value)} is not true or false`);
}

function absolutePath(value: unknown, what: string, field: string): string {
  if (typeof value !== 'string' || value === '') throw new ApiError('bad-request', `cannot flash: "${field}" must be the path of the ${what}`);
  if (!isAbsolute(value)) throw new ApiError('bad-request', `cannot flash: ${what} ${JSON.stringify(value)} is not an absolute path; the daemon does not know the client's working directory`);
  return value;
}

/**
 * The drives listing's view of an image, read with the caller's rights: its
 * size for verdicts (from its bmap, the file, or the compressed stream's
 * header; null when only reading it all would tell, as for gzip) and the open
 * file, so finding the drive that holds it looks at what the caller may read.
 * Unless forced, an image that is no disk image is refused here already, so
 * a client learns it before it asks anyone to confirm erasing a drive.
 */
async function withImage<T>(image: string, bmap: string | undefined, force: boolean, caller: Caller, use: (facts: { path: string; size: number | null }) => Promise<T>): Promise<T> {
  const opened = await openImageSource(image, undefined, caller);
  try {
    const loaded = await loadBmap(image, bmap, caller);
    const size = loaded ? loaded.bmap.imageSize : opened.source.size;
    if (!force) await requireDiskImage(opened.source, size);
    return await use({ path: opened.file, size });
  } finally {
    opened.close();
  }
}

const requestFields = new Set(['image', 'bmap', 'targets', 'verify', 'allow-system-drive', 'include-loop', 'force']);

/** Checks the shape of a `POST /v1/flash` body; what the drives and image are is checked by the flash itself. */
export function parseFlashRequest(body: Record<string, unknown>): FlashRequest {
  for (const field of Object.keys(body)) {
    if (!requestFields.has(field)) throw new ApiError('bad-request', `cannot flash: unknown field ${JSON.stringify(field)}; the fields are ${[...requestFields].join(', ')}`);
  }
  const image = absolutePath(body.image, 'image', 'image');
  const bmap = body.bmap === undefined ? undefined : absolutePath(body.bmap, 'bmap', 'bmap');
  if (!Array.isArray(body.targets) || body.targets.length === 0) {
    throw new ApiError('bad-request', 'cannot flash: "targets" must list at least one drive as {"path", "size"} (see GET /v1/drives)');
  }
  const targets: FlashTargetRequest[] = body.targets.map((t: unknown, i) => {
    const target = (t ?? {}) as Record<string, unknown>;
    if (t === null || typeof t !== 'object' || Array.isArray(t)) throw new ApiError('bad-request', `cannot flash: targets[${i}] must be an object {"path", "size", "serial"}`);
    const path = absolutePath(target.path, 'drive', `targets[${i}].path`);
    if (typeof target.size !== 'number' || !Number.isSafeInteger(target.size) || target.size < 0) {
      throw new ApiError('bad-request', `cannot flash ${path}: targets[${i}].size must be the drive's size in bytes as listed by GET /v1/drives`);
    }
    if (target.serial !== undefined && typeof target.serial !== 'string') throw new ApiError('bad-request', `cannot flash ${path}: targets[${i}].serial must be a string`);
    return { path, size: target.size, ...(target.serial ? { serial: target.serial } : {}) };
  });
  for (const flag of ['verify', 'include-loop', 'force'] as const) {
    if (body[flag] !== undefined && typeof body[flag] !== 'boolean') throw new ApiError('bad-request', `cannot flash: "${flag}" must be true or false`);
  }
  const allow = body['allow-system-drive'];
  if (allow !== undefined && (!Array.isArray(allow) || !allow.every((a) => typeof a === 'string'))) {
    throw new ApiError('bad-request', 'cannot flash: "allow-system-drive" must be a list of drive paths');
  }
  return {
    image,
    ...(bmap ? { bmap } : {}),
    targets,
    verify: body.verify !== false,
    'allow-system-drive': (allow as string[] | undefined) ?? [],
    'include-loop': body['include-loop'] === true,
    ...(body.force === true ? { force: true } : {}),
  };
}

/** Loop devices are files, hidden unless asked for: naming one without include-loop is a mistake worth stopping. */
async function refuseHiddenLoops(request: FlashRequest): Promise<void> {
  if (request['include-loop']) return;
  for (const t of request.targets) {
    const real = await realpath(t.path).catch(() => t.path);
    if (/^\/dev\/loop\d+$/.test(real)) {
      throw flashError('drive-not-found', `cannot flash ${t.path}: it is a loop device, and loop devices are hidden unless asked for; pass --include-loop ("include-loop": true) to flash it`, { drive: t.path });
    }
  }
}

/** When each drive started writing, finished writing, and finished verifying, for the summary's speeds. */
type Timing = Map<string, { start?: number; written?: number; end?: number }>;

function errorKind(err: Error): ApiErrorKind {
  return (isCoreforgeError(err) ? err.kind : 'io-error') as ApiErrorKind;
}

function toFlashResult(result: LibFlashResult, timing: Timing): FlashResult {
  const targets: FlashTargetResult[] = result.targets.map((t) => {
    const time = timing.get(t.path) ?? {};
    const start = time.start ?? 0;
    return {
      path: t.path,
      ok: t.ok,
      'bytes-written': t.bytesWritten,
      verified: t.verified,
      mismatches: t.mismatches.map((r) => ({ start: r.start, end: r.end })),
      error: t.error ? { kind: errorKind(t.error), message: t.error.message } : null,
      unmounted: t.unmounted.map((m) => ({ device: m.device, mountpoint: m.mountpoint })),
      'write-seconds': time.start !== undefined ? ((time.written ?? start) - start) / 1000 : 0,
      seconds: time.start !== undefined ? ((time.end ?? time.written ?? start) - start) / 1000 : 0,
    };
  });
  return { image: result.image, bmap: result.bmap, 'image-size': result.imageSize, 'mapped-bytes': result.mappedBytes, targets };
}

/**
 * The `flash` task: one task writes every drive of the change from one read of
 * the image, reporting progress per drive (the event's `target`). A drive that
 * fails ends the change in Error naming that drive and its byte range, while
 * the result still reports every drive.
 */
export function flashTaskKind(options: { unmountCommand: UnmountCommand }): TaskKind {
  return {
    name: 'flash',
    concurrency: 4,
    async run(ctx) {
      const request = ctx.data as unknown as FlashRequest;
      const timing: Timing = new Map();
      ctx.log('info', `flashing ${request.image} onto ${request.targets.map((t) => t.path).join(', ')}`);
      const result = await flashImage(
        {
          image: request.image,
          caller: ctx.owner,
          ...(request.bmap ? { bmap: request.bmap } : {}),
          targets: request.targets,
          allowSystemDrives: request['allow-system-drive'] ?? [],
          verify: request.verify !== false,
          force: request.force === true,
        },
        {
          onUnmounted: (drive, m) => ctx.log('info', `${drive}: unmounted ${m.mountpoint} (${m.device}) before writing`),
          onProgress: (target, p) => {
            const now = Date.now();
            let time = timing.get(target);
            if (!time) timing.set(target, (time = {}));
            if (p.phase === 'flashing') {
              time.start ??= now;
              time.written = now;
            } else if (p.phase === 'verifying') time.end = now;
            ctx.progress(p.phase, p.bytes, p.total ?? 0, target);
          },
          deps: { unmountCommand: options.unmountCommand },
        },
        ctx.signal,
      );
      const out = toFlashResult(result, timing);
      for (const t of out.targets) {
        if (t.ok) ctx.log('info', `${t.path}: wrote ${t['bytes-written']} bytes${t.verified ? ', verified' : ''}`);
        else ctx.log('error', t.error?.message ?? `${t.path} failed`);
      }
      const failed = out.targets.filter((t) => !t.ok);
      if (failed.length > 0) {
        const ok = out.targets.length - failed.length;
        const others = ok > 0 ? `; ${ok} other drive${ok === 1 ? '' : 's'} flashed fine` : '';
        throw new CoreforgeError(failed[0]!.error!.kind, failed.map((t) => t.error!.message).join('; ') + others, { result: out });
      }
      return out;
    },
  };
}

/**
 * Watches drives while at least one client listens: `listeners(n)` starts or
 * stops the polling, `ready` resolves once the baseline listing is taken so a
 * drive attached after the subscription is acknowledged is never missed.
 */
export class DriveEvents {
  private controller: AbortController | null = null;
  private baseline: Promise<void> = Promise.resolve();

  constructor(
    private readonly emit: (event: DrivesEvent) => void,
    private readonly intervalMs = 1000,
  ) {}

  /** Call whenever the number of subscribed clients may have changed; resolves once watching (if any) has its baseline. */
  listeners(count: number): Promise<void> {
    if (count > 0 && !this.controller) {
      const controller = (this.controller = new AbortController());
      let ready!: () => void;
      this.baseline = new Promise((resolve) => (ready = resolve));
      const list = async (options: Parameters<typeof listDrives>[0]) => {
        try {
          return await listDrives(options);
        } finally {
          ready();
        }
      };
      void watchDrives(
        { includeLoop: true, intervalMs: this.intervalMs },
        (change, drives) => this.emit({ attached: change.attached.map(toDriveInfo), detached: change.detached.map(toDriveInfo), drives: drives.map(toDriveInfo) }),
        controller.signal,
        list,
      ).finally(ready);
    } else if (count === 0 && this.controller) {
      this.controller.abort();
      this.controller = null;
    }
    return this.baseline;
  }

  close(): void {
    void this.listeners(0);
  }
}

export const flashRoutes: Route[] = [
  {
    path: '/v1/drives',
    GET: async (req) => {
      const includeLoop = booleanParam(req.query['include-loop'], 'include-loop');
      const caller = req.caller;
      const image = req.query.image;
      if (image !== undefined && !isAbsolute(image)) throw new ApiError('bad-request', `cannot list drives: image ${JSON.stringify(image)} is not an absolute path`);
      const bmap = req.query.bmap;
      if (bmap !== undefined && !isAbsolute(bmap)) throw new ApiError('bad-request', `cannot list drives: bmap ${JSON.stringify(bmap)} is not an absolute path`);
      const allow = req.query['allow-system-drive'];
      const force = booleanParam(req.query.force, 'force');
      const list = (facts?: { path: string; size: number | null }) =>
        listDrives({ includeLoop, ...(facts ? { image: facts } : {}), ...(allow ? { allowSystemDrives: allow.split(',') } : {}) });
      const drives = image ? await withImage(image, bmap, force, caller, list) : await list();
      return syncResponse(drives.map(toDriveInfo));
    },
  },
  {
    path: '/v1/flash',
    POST: async (req, ctx) => {
      const request = parseFlashRequest(req.body);
      await refuseHiddenLoops(request);
      const names = request.targets.map((t) => t.path).join(', ');
      const id = await ctx.engine.create({
        owner: req.caller,
        kind: 'flash',
        summary: `Flash ${request.image} onto ${names}`,
        data: { image: request.image, targets: request.targets.map((t) => t.path) },
        tasks: [{ kind: 'flash', summary: `Write${request.verify ? ' and verify' : ''} ${names}`, data: request as unknown as Record<string, unknown> }],
      });
      return asyncResponse(id);
    },
  },
];
