import { isAbsolute } from 'node:path';
import { CoreforgeError } from '../../errors.js';
import { isValidSnapName, snapNameRule } from '../../snap/name.js';
import { parseSize } from '../gadget/quantity.js';
import { buildStepNames, reportNames, type BuildParams, type BuildStepName } from './params.js';
import { parseRevisions } from './store-snaps.js';

/**
 * What a build request asks for, in the API's words (the client sends this
 * shape; daemon/api/types-builds.ts re-exports it), and how it becomes the
 * build's parameters: ubuntu-image's option rules, paths that must be
 * absolute, names that must be plain, and the steps `--thru` leaves.
 */

/** POST /v1/builds: paths are absolute (the daemon does not share the client's working directory). */
export interface BuildRequest {
  /** The signed model assertion text. */
  model: string;
  /** Where the model came from, for messages. */
  'model-source'?: string;
  /** Local .snap files (absolute paths ending in .snap) or store snaps as NAME[=CHANNEL]. */
  snaps?: string[];
  channel?: string;
  'output-dir': string;
  /**
   * The image's file name in the output directory, for a single-volume gadget
   * (ubuntu-image's -o); its bmap is NAME.bmap. Default: VOLUME.img per volume.
   */
  'image-name'?: string;
  /** "SIZE" for every volume or "VOL:SIZE,VOL:SIZE" (sizes like 4G, 512M, or bytes). */
  'image-size'?: string;
  'sector-size'?: 512 | 4096;
  /** Work directory; a fresh one under the state dir when absent. */
  workdir?: string;
  /** Continue the build saved in `workdir`. */
  resume?: boolean;
  validation?: 'ignore' | 'enforce';
  'disable-console-conf'?: boolean;
  /** console-conf first-boot config text. */
  'first-boot'?: string;
  /** cloud-init user-data text. */
  'cloud-init'?: string;
  /** NAME:REV pins of store snaps. */
  revision?: string[];
  /** Stop after this step (inclusive), as ubuntu-image --thru. */
  thru?: string;
}

/** Secrets a build carries in memory only. */
export type BuildSecrets = Pick<BuildParams, 'firstBoot' | 'cloudInit'>;

/** A request read: the build's parameters (without its secrets), its secrets, and the steps to run. */
export interface BuildOrder {
  params: BuildParams;
  secrets: BuildSecrets;
  resume: boolean;
  steps: readonly BuildStepName[];
}

/** The request itself is wrong: the HTTP layer's bad-request kind, so the API answers 400 as for a malformed field. */
function bad(message: string): never {
  throw new CoreforgeError('bad-request', message);
}

function absolute(path: string, what: string): string {
  if (!isAbsolute(path)) bad(`cannot start build: ${what} ${JSON.stringify(path)} must be an absolute path (the daemon does not share the client's working directory)`);
  return path;
}

/** An image file name (ubuntu-image's -o): a plain name in the output directory that no other output uses. */
function checkImageName(name: string): void {
  const rule = 'use a plain file name such as pi3.img (-O DIR chooses the directory)';
  if (name === '' || name.includes('/') || name.startsWith('.') || name.length > 200 || name.includes('\0')) {
    bad(`cannot start build: image name ${JSON.stringify(name)} is not a plain file name; ${rule}`);
  }
  if (reportNames.includes(name) || name.endsWith('.bmap')) bad(`cannot start build: image name ${JSON.stringify(name)} is the name of another output of the build; ${rule}`);
}

/** Parses `-i SIZE` or `-i VOL:SIZE,VOL:SIZE` (ubuntu-image's --image-size). */
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

/** As ubuntu-image: a value ending in .snap is a local file, anything else a store snap by NAME[=CHANNEL]. */
function splitSnaps(snaps: readonly string[]): { local: string[]; store: { name: string; channel: string }[] } {
  const local = snaps.filter((s) => s.endsWith('.snap'));
  const store = snaps.filter((s) => !s.endsWith('.snap')).map((s) => {
    const eq = s.indexOf('=');
    const name = eq < 0 ? s : s.slice(0, eq);
    if (!isValidSnapName(name)) {
      bad(`cannot start build: --snap ${JSON.stringify(s)} is neither a .snap file nor a snap name; use a path ending in .snap or NAME[=CHANNEL] (a name is ${snapNameRule})`);
    }
    return { name, channel: eq < 0 ? '' : s.slice(eq + 1) };
  });
  return { local, store };
}

/** Reads a build request into the build's parameters; throws bad-request (or invalid-snap-set for a --revision) naming the field at fault. */
export function readBuildRequest(request: BuildRequest): BuildOrder {
  const { local, store } = splitSnaps(request.snaps ?? []);
  const outputDir = absolute(request['output-dir'], 'output directory');
  const imageName = request['image-name'];
  if (imageName !== undefined) checkImageName(imageName);
  const pinned = parseRevisions(request.revision ?? []);
  const thru = request.thru;
  if (thru !== undefined && !(buildStepNames as readonly string[]).includes(thru)) bad(`cannot start build: step ${JSON.stringify(thru)} is not one of ${buildStepNames.join(', ')}`);
  const resume = request.resume === true;
  if (resume && request.workdir === undefined) bad('cannot resume a build without its work directory; pass the -w WORKDIR of the build to resume');
  const workDir = request.workdir === undefined ? undefined : absolute(request.workdir, 'work directory');
  const imageSize = request['image-size'];
  const params: BuildParams = {
    model: request.model,
    modelSource: request['model-source'] ?? 'model',
    snaps: local.map((s) => absolute(s, 'snap file')),
    ...(store.length > 0 ? { storeSnaps: store } : {}),
    ...(Object.keys(pinned).length > 0 ? { revisions: pinned } : {}),
    channel: request.channel ?? '',
    outputDir,
    ...(imageName !== undefined ? { imageName } : {}),
    ...(workDir !== undefined ? { workDir } : {}),
    ...(imageSize !== undefined ? { imageSize: parseImageSize(imageSize) } : {}),
    sectorSize: request['sector-size'] ?? 512,
    validation: request.validation ?? 'ignore',
    disableConsoleConf: request['disable-console-conf'] === true,
  };
  const secrets: BuildSecrets = {
    ...(request['first-boot'] !== undefined ? { firstBoot: request['first-boot'] } : {}),
    ...(request['cloud-init'] !== undefined ? { cloudInit: request['cloud-init'] } : {}),
  };
  const steps = thru === undefined ? buildStepNames : buildStepNames.slice(0, buildStepNames.indexOf(thru as BuildStepName) + 1);
  return { params, secrets, resume, steps };
}
