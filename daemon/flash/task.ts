import { realpath } from 'node:fs/promises';
import type { ChangeEngine, TaskKind } from '../changes/engine.js';
import type { ChangeOwner } from '../changes/types.js';
import { CoreforgeError, isCoreforgeError } from '../errors.js';
import { flashError } from './errors.js';
import { flashImage, type FlashResult } from './flash.js';
import { parseFlashTaskData, type FlashTaskData, type FlashTaskResult, type FlashTaskTargetResult } from './task-data.js';
import type { UnmountCommand } from './unmount.js';

/** Task kind name of a flash, as `coreforge changes` shows it. */
export const flashTaskKindName = 'flash';

/** When each drive started writing, finished writing, and finished verifying, for the summary's speeds. */
type Timing = Map<string, { start?: number; written?: number; end?: number }>;

function targetError(err: Error): NonNullable<FlashTaskTargetResult['error']> {
  if (!isCoreforgeError(err)) return { kind: 'io-error', message: err.message };
  return { kind: err.kind, message: err.message, ...(err.details ? { details: err.details } : {}) };
}

/** The flash library's result in the change's shape (kebab-case, as every API answer), with each drive's timing. */
function toTaskResult(result: FlashResult, timing: Timing): FlashTaskResult {
  const targets: FlashTaskTargetResult[] = result.targets.map((t) => {
    const time = timing.get(t.path) ?? {};
    const start = time.start ?? 0;
    return {
      path: t.path,
      ok: t.ok,
      'bytes-written': t.bytesWritten,
      verified: t.verified,
      mismatches: t.mismatches.map((r) => ({ start: r.start, end: r.end })),
      error: t.error ? targetError(t.error) : null,
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
 * fails ends the change in Error with that drive's kind, naming the drive and
 * its byte range (the first failure's details are the change's err-details),
 * while the result still reports every drive.
 */
export function flashTaskKind(options: { unmountCommand: UnmountCommand }): TaskKind<FlashTaskData> {
  return {
    name: flashTaskKindName,
    concurrency: 4,
    parseData: parseFlashTaskData,
    async run(ctx): Promise<FlashTaskResult> {
      const request = ctx.data;
      const timing: Timing = new Map();
      ctx.log('info', `flashing ${request.image} onto ${request.targets.map((t) => t.path).join(', ')}`);
      const result = await flashImage(
        {
          image: request.image,
          caller: ctx.owner,
          ...(request.bmap ? { bmap: request.bmap } : {}),
          targets: request.targets,
          allowSystemDrives: request['allow-system-drive'],
          verify: request.verify,
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
            ctx.progress(p.phase, p.bytes, p.total, { target, fraction: p.fraction });
          },
          deps: { unmountCommand: options.unmountCommand },
        },
        ctx.signal,
      );
      const out = toTaskResult(result, timing);
      for (const t of out.targets) {
        if (t.ok) ctx.log('info', `${t.path}: wrote ${t['bytes-written']} bytes${t.verified ? ', verified' : ''}`);
        else ctx.log('error', t.error?.message ?? `${t.path} failed`);
      }
      const failed = out.targets.filter((t) => !t.ok);
      if (failed.length > 0) {
        const ok = out.targets.length - failed.length;
        const others = ok > 0 ? `; ${ok} other drive${ok === 1 ? '' : 's'} flashed fine` : '';
        const first = failed[0]!.error!;
        throw new CoreforgeError(first.kind, failed.map((t) => t.error!.message).join('; ') + others, {
          drive: failed[0]!.path,
          ...first.details,
          ...(failed.length > 1 ? { drives: failed.map((t) => t.path) } : {}),
          result: out,
        });
      }
      return out;
    },
  };
}

/** Loop devices are files, hidden unless asked for: naming one without include-loop is a mistake worth stopping. */
async function refuseHiddenLoops(request: FlashTaskData): Promise<void> {
  if (request['include-loop']) return;
  for (const t of request.targets) {
    const real = await realpath(t.path).catch(() => t.path);
    if (/^\/dev\/loop\d+$/.test(real)) {
      throw flashError('drive-not-found', `cannot flash ${t.path}: it is a loop device, and loop devices are hidden unless asked for; pass --include-loop ("include-loop": true) to flash it`, { drive: t.path });
    }
  }
}

/** Starts a flash as a change owned by `owner`; returns the change id. */
export async function startFlash(engine: Pick<ChangeEngine, 'create'>, owner: ChangeOwner, request: FlashTaskData): Promise<string> {
  await refuseHiddenLoops(request);
  const names = request.targets.map((t) => t.path).join(', ');
  return engine.create({
    owner,
    kind: flashTaskKindName,
    summary: `Flash ${request.image} onto ${names}`,
    data: { image: request.image, targets: request.targets.map((t) => t.path) },
    tasks: [{ kind: flashTaskKindName, summary: `Write${request.verify ? ' and verify' : ''} ${names}`, data: request }],
  });
}
