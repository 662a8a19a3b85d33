import { isAbsolute } from 'node:path';
import { mayUseChange } from '../caller/caller.js';
import { OutputDir } from '../caller/files.js';
import { decodeAssertion, type ModelInfo } from '../asserts/index.js';
import { imageError } from '../image/errors.js';
import { parseSize } from '../image/gadget/quantity.js';
import { buildStepNames, reportNames, type BuildParams, type BuildStepName } from '../image/pipeline/params.js';
import type { BuildRow } from '../image/pipeline/repository.js';
import { buildStepTaskKind, type BuildChangeData, type BuildSecrets } from '../image/pipeline/task.js';
import { validateGadget } from '../image/pipeline/validate-gadget.js';
import { parseRevisions } from '../image/pipeline/store-snaps.js';
import { runTool } from '../image/pipeline/exec.js';
import { outputDirError } from '../image/pipeline/pipeline.js';
import type { DaemonContext } from './context.js';
import { ApiError } from './errors.js';
import { asyncResponse, syncResponse } from './response.js';
import type { ApiRequest, Route } from './routes.js';
import type { BuildInfo, GadgetLayoutResult } from './types.js';
import { isValidSnapName, snapNameRule } from '../snap/name.js';

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

function absolute(path: string, what: string): string {
  if (!isAbsolute(path)) bad(`cannot start build: ${what} ${JSON.stringify(path)} must be an absolute path (the daemon does not share the client's working directory)`);
  return path;
}

/** Parses `-i SIZE` or `-i VOL:SIZE,VOL:SIZE` (ubuntu-image's --image-size). */
/** An image file name (ubuntu-image's -o): a plain name in the output directory that no other output uses. */
function checkImageName(name: string): void {
  const rule = 'use a plain file name such as pi3.img (-O DIR chooses the directory)';
  if (name === '' || name.includes('/') || name.startsWith('.') || name.length > 200 || name.includes('\0')) {
    bad(`cannot start build: image name ${JSON.stringify(name)} is not a plain file name; ${rule}`);
  }
  if (reportNames.includes(name) || name.endsWith('.bmap')) bad(`cannot start build: image name ${JSON.stringify(name)} is the name of another output of the build; ${rule}`);
}

export function parseImageSize(text: string): number | Record<string, number> {
  const one = (s: string): number => {
    const r = /^\d+$/.test(s) ? { ok: true as const, value: Number(s) } : parseSize(s);
    if (!r.ok) bad(`cannot use image size ${JSON.stringify(text)}: ${r.error}; use SIZE or VOLUME:SIZE,... with sizes like 4G, 512M or bytes`);
    return r.value;
  };
  if (!text.includes(':')) return one(text);
  const out: Record<string, number> = {};
  for (const part of text.split(',')) {
    const colon = part.indexOf(':');
    if (colon <= 0) bad(`cannot use image size ${JSON.stringify(text)}: "${part}" is not VOLUME:SIZE`);
    out[part.slice(0, colon)] = one(part.slice(colon + 1));
  }
  return out;
}

/**
 * `pending` is taken before the row is read: a digest that ends in between
 * then shows as still pending (the client asks again), never as done with
 * its sha256 missing.
 */
async function toInfo(row: BuildRow, ctx: DaemonContext, pending: ReadonlySet<string>): Promise<BuildInfo> {
  const change = await ctx.engine.get(row.change);
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
    'digests-pending': pending.has(row.id),
    warnings: row.warnings,
  };
}

async function startBuild(req: ApiRequest, ctx: DaemonContext) {
  const model = str(req, 'model', true)!;
  const snaps = req.body.snaps ?? [];
  if (!Array.isArray(snaps) || snaps.some((s) => typeof s !== 'string')) bad('cannot start build: "snaps" must be a list of .snap file paths or NAME[=CHANNEL] store snaps');
  // as ubuntu-image: a value ending in .snap is a local file, anything else a store snap by name
  const localSnaps = (snaps as string[]).filter((s) => s.endsWith('.snap'));
  const storeSnaps = (snaps as string[]).filter((s) => !s.endsWith('.snap')).map((s) => {
    const eq = s.indexOf('=');
    const name = eq < 0 ? s : s.slice(0, eq);
    if (!isValidSnapName(name)) {
      bad(`cannot start build: --snap ${JSON.stringify(s)} is neither a .snap file nor a snap name; use a path ending in .snap or NAME[=CHANNEL] (a name is ${snapNameRule})`);
    }
    return { name, channel: eq < 0 ? '' : s.slice(eq + 1) };
  });
  const outputDir = absolute(str(req, 'output-dir', true)!, 'output directory');
  const imageName = str(req, 'image-name');
  if (imageName !== undefined) checkImageName(imageName);
  const sectorSize = req.body['sector-size'] ?? 512;
  if (sectorSize !== 512 && sectorSize !== 4096) bad(`cannot start build: sector size ${JSON.stringify(sectorSize)} is not supported; use 512 or 4096`);
  const validation = req.body.validation ?? 'ignore';
  if (validation !== 'ignore' && validation !== 'enforce') bad(`cannot start build: validation ${JSON.stringify(validation)} is not one of ignore, enforce`);
  const revisions = req.body.revision ?? [];
  if (!Array.isArray(revisions)) bad('cannot start build: "revision" must be a list of NAME:REV');
  if (revisions.some((r) => typeof r !== 'string')) bad('cannot start build: "revision" must be a list of NAME:REV');
  const pinned = parseRevisions(revisions as string[]);
  const thru = str(req, 'thru');
  if (thru !== undefined && !(buildStepNames as readonly string[]).includes(thru)) bad(`cannot start build: step ${JSON.stringify(thru)} is not one of ${buildStepNames.join(', ')}`);
  const resume = req.body.resume === true;
  const givenWorkDir = str(req, 'workdir');
  if (resume && givenWorkDir === undefined) bad('cannot resume a build without its work directory; pass the -w WORKDIR of the build to resume');
  const workDir = givenWorkDir === undefined ? undefined : absolute(givenWorkDir, 'work directory');
  const imageSize = str(req, 'image-size');
  const params: BuildParams = {
    model,
    modelSource: str(req, 'model-source') ?? 'model',
    snaps: localSnaps.map((s) => absolute(s, 'snap file')),
    ...(storeSnaps.length > 0 ? { storeSnaps } : {}),
    ...(Object.keys(pinned).length > 0 ? { revisions: pinned } : {}),
    channel: str(req, 'channel') ?? '',
    outputDir,
    ...(imageName !== undefined ? { imageName } : {}),
    ...(workDir !== undefined ? { workDir } : {}),
    ...(imageSize !== undefined ? { imageSize: parseImageSize(imageSize) } : {}),
    sectorSize,
    validation,
    disableConsoleConf: req.body['disable-console-conf'] === true,
  };
  // First-boot and cloud-init texts may hold network passwords: in memory only, never in change data.
  const secrets: BuildSecrets = {
    ...(str(req, 'first-boot') !== undefined ? { firstBoot: str(req, 'first-boot') } : {}),
    ...(str(req, 'cloud-init') !== undefined ? { cloudInit: str(req, 'cloud-init') } : {}),
  };
  let name = '(unknown model)';
  let brand = '';
  try {
    const info = decodeAssertion(model).info as ModelInfo;
    name = info.model ?? name;
    brand = info.brandId ?? '';
  } catch {
    // the verify-model step reports why
  }
  const steps = thru === undefined ? buildStepNames : buildStepNames.slice(0, buildStepNames.indexOf(thru as BuildStepName) + 1);
  // Made (with the caller's rights) and identified now, so a second build into it is refused before it starts.
  let output: OutputDir;
  try {
    output = OutputDir.open(req.caller, outputDir, 'output directory');
  } catch (err) {
    throw outputDirError(err, outputDir);
  }
  const outputKey = output.key;
  output.close();
  const secretsToken = Object.keys(secrets).length > 0 ? ctx.passphrases.put(JSON.stringify(secrets), buildSecretsTtlMs) : undefined;
  const data: BuildChangeData = { params, resume, ...(secretsToken ? { secrets: secretsToken } : {}) };
  const change = await oneAtATime(async () => {
    try {
      return await createBuild();
    } catch (err) {
      if (secretsToken) ctx.passphrases.forget(secretsToken);
      throw err;
    }
  });
  return asyncResponse(change);

  async function createBuild(): Promise<string> {
    const sameWork = workDir === undefined ? [] : await ctx.builds.activeInWorkDir(req.caller.uid, workDir);
    if (sameWork.length > 0) {
      throw imageError(
        'output-busy',
        `cannot build in work directory ${workDir}: build ${sameWork[0]!.id} is using it now; wait for it ("coreforge watch ${sameWork[0]!.change}") or choose another work directory with -w`,
      );
    }
    const busy = await ctx.builds.activeInto(outputKey);
    if (busy.length > 0) {
      throw imageError(
        'output-busy',
        `cannot build into ${outputDir}: build ${busy[0]!.id} is writing its images there now; wait for it ("coreforge watch ${busy[0]!.change}") or choose another output directory with -O`,
      );
    }
    const id = await ctx.engine.create({
      owner: req.caller,
      kind: 'build',
      summary: `${resume ? 'Resume build' : 'Build'} image of model "${name}" into ${outputDir}`,
      data: data as unknown as Record<string, unknown>,
      tasks: steps.map((step, i) => ({ kind: buildStepTaskKind, summary: step, data: { step, first: i === 0 } })),
    });
    await ctx.builds.create({ id, change: id, model: name, brand, outputDir, workDir: workDir ?? '', created: new Date().toISOString(), owner: req.caller, outputKey });
    return id;
  }
}

/** How long a build's first-boot text is held for its tasks at most (a build queued behind others included). */
const buildSecretsTtlMs = 24 * 3600_000;

/** Builds are created one at a time, so two requests cannot both find an output directory free. */
let creating: Promise<unknown> = Promise.resolve();
function oneAtATime<T>(fn: () => Promise<T>): Promise<T> {
  const run = creating.then(fn, fn);
  creating = run.catch(() => {});
  return run;
}

export const buildRoutes: Route[] = [
  {
    path: '/v1/builds',
    POST: startBuild,
    GET: async (req, ctx) => {
      const pending = ctx.imageDigests.pendingNow();
      const rows = (await ctx.builds.list()).filter((r) => mayUseChange(req.caller, r.owner?.uid ?? null));
      return syncResponse(await Promise.all(rows.map((r) => toInfo(r, ctx, pending))));
    },
  },
  {
    path: '/v1/builds/:id',
    GET: async (req, ctx) => {
      const pending = ctx.imageDigests.pendingNow();
      const row = await ctx.builds.get(req.params.id!);
      if (row && !mayUseChange(req.caller, row.owner?.uid ?? null)) {
        throw new ApiError('not-owner', `cannot show build ${req.params.id}: it was started by uid ${row.owner?.uid ?? 0}, not by you (uid ${req.caller.uid}); only its owner and root may see it`);
      }
      if (!row) throw imageError('build-not-found', `cannot find build ${JSON.stringify(req.params.id)}: no build has that id; list builds with "coreforge builds"`);
      return syncResponse(await toInfo(row, ctx, pending));
    },
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
