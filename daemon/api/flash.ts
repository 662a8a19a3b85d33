import { isAbsolute } from 'node:path';
import type { Drive } from '../flash/index.js';
import type { DrivesUpdate } from '../flash/drive-events.js';
import { listDrivesFor } from '../flash/drives-for-image.js';
import { startFlash } from '../flash/task.js';
import type { FlashTaskData } from '../flash/task-data.js';
import { ApiError } from './errors.js';
import { asyncResponse, syncResponse } from './response.js';
import type { Route } from './routes.js';
import type { DriveInfo, DrivesEvent, FlashTargetRequest } from './types.js';

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

/** The socket.io `drives` event of a drives update. */
export function toDrivesEvent(u: DrivesUpdate): DrivesEvent {
  return { attached: u.attached.map(toDriveInfo), detached: u.detached.map(toDriveInfo), drives: u.drives.map(toDriveInfo) };
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

const requestFields = new Set(['image', 'bmap', 'targets', 'verify', 'allow-system-drive', 'include-loop', 'force']);

/** Checks the shape of a `POST /v1/flash` body; what the drives and image are is checked by the flash itself. */
export function parseFlashRequest(body: Record<string, unknown>): FlashTaskData {
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

export const flashRoutes: Route[] = [
  {
    path: '/v1/drives',
    GET: async (req) => {
      const includeLoop = booleanParam(req.query['include-loop'], 'include-loop');
      const image = req.query.image;
      if (image !== undefined && !isAbsolute(image)) throw new ApiError('bad-request', `cannot list drives: image ${JSON.stringify(image)} is not an absolute path`);
      const bmap = req.query.bmap;
      if (bmap !== undefined && !isAbsolute(bmap)) throw new ApiError('bad-request', `cannot list drives: bmap ${JSON.stringify(bmap)} is not an absolute path`);
      const allow = req.query['allow-system-drive'];
      const force = booleanParam(req.query.force, 'force');
      const query = { includeLoop, force, ...(image ? { image } : {}), ...(bmap ? { bmap } : {}), ...(allow ? { allowSystemDrives: allow.split(',') } : {}) };
      return syncResponse((await listDrivesFor(query, req.caller)).map(toDriveInfo));
    },
  },
  {
    path: '/v1/flash',
    POST: async (req, ctx) => asyncResponse(await startFlash(ctx.engine, req.caller, parseFlashRequest(req.body))),
  },
];
