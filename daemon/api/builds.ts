import { isAbsolute } from 'node:path';
import { listBuilds, showBuild, type BuildView } from '../image/pipeline/build-views.js';
import { startBuild } from '../image/pipeline/plan.js';
import { validateGadget } from '../image/pipeline/validate-gadget.js';
import { runTool } from '../image/pipeline/exec.js';
import type { DaemonContext } from './context.js';
import { ApiError } from './errors.js';
import { asyncResponse, syncResponse } from './response.js';
import type { ApiRequest, Route } from './routes.js';
import type { BuildInfo, BuildRequest, GadgetLayoutResult } from './types.js';

function bad(message: string): never {
  throw new ApiError('bad-request', message);
}

function str(req: ApiRequest, field: string, required = false): string | undefined {
  const v = req.body[field];
  if (v === undefined || v === null) {
    if (required) bad(`cannot start build: "${field}" is required`);
    return undefined;
  }
  if (typeof v !== 'string') bad(`cannot start build: "${field}" must be a string`);
  return v;
}

/** A field that is a list of strings, when given. */
function strings(req: ApiRequest, field: string, message: string): string[] | undefined {
  const v = req.body[field];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) bad(message);
  return v as string[];
}

/** A field with one of a few values; absent or null: the default. */
function oneOf<T>(req: ApiRequest, field: string, values: readonly T[], fallback: T, message: (shown: string) => string): T {
  const v = req.body[field] ?? fallback;
  if (!values.includes(v as T)) bad(message(JSON.stringify(v)));
  return v as T;
}

/** The body's fields, each of the type the request has (in the order the checks run); what they mean is the build library's to check. */
function buildRequestOf(req: ApiRequest): BuildRequest {
  return {
    model: str(req, 'model', true)!,
    snaps: strings(req, 'snaps', 'cannot start build: "snaps" must be a list of .snap file paths or NAME[=CHANNEL] store snaps'),
    'output-dir': str(req, 'output-dir', true)!,
    'image-name': str(req, 'image-name'),
    'sector-size': oneOf(req, 'sector-size', [512, 4096] as const, 512, (v) => `cannot start build: sector size ${v} is not supported; use 512 or 4096`),
    validation: oneOf(req, 'validation', ['ignore', 'enforce'] as const, 'ignore', (v) => `cannot start build: validation ${v} is not one of ignore, enforce`),
    revision: strings(req, 'revision', 'cannot start build: "revision" must be a list of NAME:REV'),
    thru: str(req, 'thru'),
    resume: req.body.resume === true,
    workdir: str(req, 'workdir'),
    'image-size': str(req, 'image-size'),
    'model-source': str(req, 'model-source'),
    channel: str(req, 'channel'),
    'disable-console-conf': req.body['disable-console-conf'] === true,
    'first-boot': str(req, 'first-boot'),
    'cloud-init': str(req, 'cloud-init'),
  };
}

function toInfo({ row, change, digestsPending }: BuildView): BuildInfo {
  return {
    id: row.id,
    change: row.change,
    status: change.status,
    model: row.model,
    brand: row.brand,
    'output-dir': row.outputDir,
    workdir: row.workDir,
    'spawn-time': change['spawn-time'],
    'ready-time': change['ready-time'],
    ...(change.err ? { err: change.err } : {}),
    artifacts: row.artifacts,
    'digests-pending': digestsPending,
    warnings: row.warnings,
  };
}

const views = (ctx: DaemonContext) => ({ builds: ctx.builds, engine: ctx.engine, digests: ctx.imageDigests });

export const buildRoutes: Route[] = [
  {
    path: '/v1/builds',
    POST: async (req, ctx) => {
      const { change } = await startBuild({ engine: ctx.engine, builds: ctx.builds, secrets: ctx.passphrases }, req.caller, buildRequestOf(req));
      return asyncResponse(change);
    },
    GET: async (req, ctx) => syncResponse((await listBuilds(views(ctx), req.caller)).map(toInfo)),
  },
  {
    path: '/v1/builds/:id',
    GET: async (req, ctx) => syncResponse(toInfo(await showBuild(views(ctx), req.caller, req.params.id!))),
  },
  {
    path: '/v1/gadget/validate',
    POST: async (req) => {
      const path = req.body.path;
      const caller = req.caller;
      const yaml = req.body.yaml;
      const model = req.body.model;
      if (path !== undefined && (typeof path !== 'string' || !isAbsolute(path))) bad('cannot validate gadget: "path" must be an absolute path');
      if (yaml !== undefined && typeof yaml !== 'string') bad('cannot validate gadget: "yaml" must be the gadget.yaml text');
      if (path === undefined && yaml === undefined) bad('cannot validate gadget: give "path" (gadget snap, directory or gadget.yaml) or "yaml"');
      if (model !== undefined && typeof model !== 'string') bad('cannot validate gadget: "model" must be the model assertion text');
      const sectorSize = req.body['sector-size'] ?? 512;
      if (sectorSize !== 512 && sectorSize !== 4096) bad(`cannot validate gadget: sector size ${JSON.stringify(sectorSize)} is not supported; use 512 or 4096`);
      const report = await validateGadget(
        { caller, ...(path !== undefined ? { path: path as string } : {}), ...(yaml !== undefined ? { yaml: yaml as string } : {}), ...(model !== undefined ? { model: model as string } : {}), sectorSize },
        runTool,
      );
      const result: GadgetLayoutResult = {
        rules: report.rules,
        'content-checked': report.contentChecked,
        volumes: report.volumes.map((v) => ({
          name: v.name,
          schema: v.schema,
          bootloader: v.bootloader,
          partial: v.partial,
          size: v.size,
          structures: v.structures.map((s) => ({ name: s.name, role: s.role, type: s.type, filesystem: s.filesystem, label: s.label, offset: s.offset, size: s.size, 'in-image': s.inImage })),
        })),
        warnings: report.warnings,
      };
      return syncResponse(result);
    },
  },
];
