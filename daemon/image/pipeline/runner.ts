import { join } from 'node:path';
import { daemonCaller } from '../../caller/caller.js';
import { isCoreforgeError } from '../../errors.js';
import { imageError } from '../errors.js';
import { buildFingerprint, buildStepNames, volumeImageName, type BuildParams, type BuildStepName } from './params.js';
import { fixedPlaces, type BuildPlaces } from './places.js';
import { loadState, saveState, type BuildState } from './state.js';
import { buildVolumes } from './steps/build-volumes.js';
import { finish } from './steps/finish.js';
import { prepare } from './steps/prepare.js';
import { readSnaps } from './steps/read-snaps.js';
import { resolveSnaps } from './steps/resolve-snaps.js';
import { stageContent } from './steps/stage-content.js';
import { workDirs, type BuildEnv, type BuildStep } from './steps/step.js';
import { unpackGadget } from './steps/unpack-gadget.js';
import { verifyModelStep } from './steps/verify-model.js';
import { writeBmap } from './steps/write-bmap.js';
import { writeSeed } from './steps/write-seed.js';
import { writeError } from './volume.js';

export type { BuildEnv } from './steps/step.js';

/**
 * The image build as an ordered list of named steps (ubuntu-image's state
 * machine), one file each under steps/. The plan is known up front; after
 * each step its findings are saved in the work dir, so a resumed build
 * continues after the last finished step, and every step is a point to stop
 * and resume at.
 */
export const buildSteps: readonly BuildStep[] = [prepare, verifyModelStep, readSnaps, resolveSnaps, unpackGadget, writeSeed, stageContent, buildVolumes, writeBmap, finish];

if (buildSteps.map((s) => s.name).join() !== buildStepNames.join()) throw new Error('build steps and their names disagree');

/**
 * A resumed build whose partial outputs are gone (a failed build's are
 * removed; the build stays resumable from its work dir) makes them again:
 * its state goes back to before the first step that writes outputs.
 */
function rewindForMissingOutputs(state: BuildState, places: BuildPlaces, params: BuildParams): void {
  const expected = [
    ...(state.done.includes('build-volumes') ? (state.volumes ?? []).map((v) => volumeImageName(params, v.name)) : []),
    ...(state.done.includes('write-bmap') ? (state.volumes ?? []).map((v) => `${volumeImageName(params, v.name)}.bmap`) : []),
  ];
  const present = (name: string) => {
    const o = state.outputs.find((x) => x.name === name);
    const file = o && places.output.reopen(o.name, o.temp);
    file?.close();
    return file !== undefined;
  };
  if (expected.every(present)) return;
  places.discardOutputs(state);
  const first = state.done.indexOf('build-volumes');
  if (first >= 0) state.done = state.done.slice(0, first);
  delete state.volumes;
}

/**
 * Runs one named step of a build: skipped when its saved state says it is
 * done, state saved after it. The first step of a new build replaces what an
 * earlier build left at the same places (its work dir, its temporary outputs).
 */
export async function runBuildStep(
  name: BuildStepName,
  params: BuildParams,
  env: BuildEnv,
  places: BuildPlaces,
  options: { resume: boolean; first: boolean },
): Promise<BuildState> {
  const fingerprint = buildFingerprint(params);
  const fresh = options.first && !options.resume;
  let state = await loadState(places.stateFile).catch((err) => {
    if (fresh) return undefined;
    throw err;
  });
  if (state && fresh) {
    await places.discard(state);
    state = undefined;
  }
  if (state && options.resume && options.first) rewindForMissingOutputs(state, places, params);
  if (state && state.fingerprint !== fingerprint) {
    throw imageError(
      'invalid-workdir',
      options.resume
        ? `cannot resume the build in ${params.workDir ?? 'its work directory'}: it holds a build with other inputs; resume with the same model, snaps and options, or start again without --resume`
        : `cannot run build step ${name}: the saved build has other inputs; start the build from the beginning`,
    );
  }
  if (!state && options.resume && params.workDir !== undefined) {
    throw imageError('invalid-workdir', `cannot resume the build in ${params.workDir}: no unfinished build of yours ran there (a finished one leaves nothing to resume); start it again without --resume`);
  }
  if (!state && !options.first) {
    throw imageError('invalid-workdir', `cannot run build step ${name}: the build has no saved state; start the build from the beginning`);
  }
  state ??= {
    version: 2,
    fingerprint,
    done: [],
    timings: {},
    warnings: [],
    owner: { pid: places.caller.pid, uid: places.caller.uid, gid: places.caller.gid, groups: places.caller.groups },
    outputDir: params.outputDir,
    outputs: [],
  };
  if (state.done.includes(name)) return state;
  const hadWork = state.work !== undefined;
  const workDir = await places.work(state);
  if (!hadWork && state.work !== undefined) await saveState(places.stateFile, state);
  const step = buildSteps.find((s) => s.name === name)!;
  const started = Date.now();
  if (env.signal?.aborted) throw imageError('aborted', `cannot run build step ${name}: the build was stopped`);
  try {
    await step.run({ params, env, state, places, dirs: workDirs(workDir) });
  } catch (err) {
    if (isCoreforgeError(err)) throw err;
    throw writeError(err, `run build step ${name}`);
  }
  state.done.push(name);
  state.timings[name] = Date.now() - started;
  await saveState(places.stateFile, state);
  return state;
}

/**
 * Runs every step in order (or up to `until`, inclusive), continuing a saved
 * build when `resume` is set. Without `places` (a library call by the
 * daemon's own user), the build works in `params.workDir`, keeps its state
 * there (and leaves it there), and writes with the daemon's own rights.
 */
export async function runBuild(
  params: BuildParams,
  env: BuildEnv,
  options: { resume?: boolean; until?: BuildStepName; places?: BuildPlaces } = {},
): Promise<BuildState> {
  const workDir = params.workDir ?? '';
  const places = options.places ?? fixedPlaces({ caller: daemonCaller, outputDir: params.outputDir, workDir, stateFile: join(workDir, 'build-state.json') });
  try {
    let state: BuildState | undefined;
    for (const [i, step] of buildSteps.entries()) {
      state = await runBuildStep(step.name, params, env, places, { resume: options.resume ?? false, first: i === 0 });
      if (step.name === options.until) break;
    }
    return state!;
  } catch (err) {
    // A failed build leaves no partial output (the work dir stays, to look into or resume).
    const state = await loadState(places.stateFile).catch(() => undefined);
    if (state && !options.places) {
      places.discardOutputs(state);
      await saveState(places.stateFile, state);
    }
    throw err;
  } finally {
    if (!options.places) places.close();
  }
}
