import { createHash } from 'node:crypto';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Caller } from '../../caller/caller.js';
import { OutputDir } from '../../caller/files.js';
import type { StatusEvent, TaskKind } from '../../changes/engine.js';
import type { ChangeStatus } from '../../changes/types.js';
import type { Logger } from '../../log.js';
import type { PassphraseVault } from '../../keys/passphrases.js';
import type { Exec } from './exec.js';
import type { ModelLookups } from './model.js';
import type { BuildParams } from './params.js';
import type { BuildSecrets } from './request.js';
import { runBuildStep } from './runner.js';
import type { ImageDigests } from './image-digests.js';
import { callerWorkPlaces, fixedPlaces, type BuildPlaces } from './places.js';
import type { BuildRepository } from './repository.js';
import type { StoreSnapFinder } from './snap-source.js';
import { loadState, removeState, saveState } from './state.js';
import { parseBuildChangeData, parseBuildTaskData, type BuildChangeData, type BuildTaskData } from './task-data.js';
import { imageError } from '../errors.js';

/** Task kind name of one build step, as `coreforge changes` shows it. */
export const buildStepTaskKind = 'image-build-step';

/** What the build task needs from the daemon. */
export interface BuildTaskDeps {
  /** The trust set and assertion lookups at the time the step runs. */
  lookups(): ModelLookups;
  repo: BuildRepository;
  /** Hashes the finished images after the build (their sha256 is null until then). */
  digests: ImageDigests;
  exec: Exec;
  /** The configured store for a device architecture (absent: local snap files only). */
  store?(architecture: string): StoreSnapFinder;
  /** The daemon's state dir: builds keep their states (and, without -w, their work dirs) in its builds/. */
  stateDir: string;
  logger: Logger;
  /** Where the API put a build's secrets (first-boot, cloud-init texts) for its tasks. */
  secrets: PassphraseVault;
}

/**
 * Where a build's state is saved: per change without -w; with -w, per user
 * and work directory, so `--resume -w DIR` finds the build that ran there.
 */
function stateFileOf(stateDir: string, change: string, owner: Caller, params: BuildParams): string {
  if (params.workDir === undefined) return join(stateDir, 'builds', `${change}.state.json`);
  const key = createHash('sha256').update(`${owner.uid}\0${params.workDir}`).digest('hex').slice(0, 32);
  return join(stateDir, 'builds', `w-${key}.state.json`);
}

function placesOf(stateDir: string, change: string, owner: Caller, params: BuildParams): BuildPlaces {
  const stateFile = stateFileOf(stateDir, change, owner, params);
  if (params.workDir === undefined) return fixedPlaces({ caller: owner, outputDir: params.outputDir, workDir: join(stateDir, 'builds', change), stateFile });
  return callerWorkPlaces({ caller: owner, outputDir: params.outputDir, workParent: params.workDir, workName: `coreforge-build-${change}`, stateFile });
}

/**
 * The build's task kind and what happens around it: one task per pipeline
 * step, so a change shows the plan and where it is. The places a build
 * works in stay open from its first step to its end (paths through open
 * directories must not change meaning mid-build); when a build ends in Error
 * or Abort its temporary outputs are removed, and its work dir too unless the
 * caller asked for one with -w (kept for --resume).
 */
export class BuildTasks {
  private readonly open = new Map<string, { places: BuildPlaces; params: BuildParams; secrets?: string }>();

  constructor(private readonly deps: BuildTaskDeps) {}

  readonly kind: TaskKind<BuildTaskData, BuildChangeData> = {
    name: buildStepTaskKind,
    concurrency: 2,
    // the engine checks both when the change is created and whenever it is read back
    parseData: parseBuildTaskData,
    parseChangeData: parseBuildChangeData,
    run: async (ctx) => {
      const data = ctx.changeData;
      const { step, first } = ctx.data;
      ctx.progress(step, 0, 0);
      let session = this.open.get(ctx.change);
      if (!session) {
        session = { places: placesOf(this.deps.stateDir, ctx.change, ctx.owner, data.params), params: data.params, ...(data.secrets ? { secrets: data.secrets } : {}) };
        this.open.set(ctx.change, session);
      }
      const held = data.secrets === undefined ? undefined : this.deps.secrets.peek(data.secrets);
      if (data.secrets !== undefined && held === undefined) {
        throw imageError('invalid-workdir', `cannot run build step ${step}: its first-boot or cloud-init text was held in memory only and the daemon has forgotten it (it restarted, or the build waited over a day); start the build again`);
      }
      const params: BuildParams = { ...data.params, ...(held === undefined ? {} : (JSON.parse(held) as BuildSecrets)) };
      const state = await runBuildStep(
        step,
        params,
        {
          exec: this.deps.exec,
          lookups: this.deps.lookups(),
          signal: ctx.signal,
          // downloads report their own phase ("fetch pi-kernel"); other steps report under the step's name
          progress: (phase, bytes, total) => ctx.progress(phase.startsWith('fetch ') ? phase : step, bytes, total),
          log: (level, message) => ctx.log(level, message),
          ...(this.deps.store ? { store: (arch: string) => this.deps.store!(arch) } : {}),
        },
        session.places,
        { resume: data.resume, first },
      );
      if (step !== 'finish') return undefined;
      // The build's id is its change's id.
      await this.deps.repo.finish(ctx.change, state.artifacts ?? [], state.warnings);
      this.deps.digests.start(ctx.change);
      await session.places.finished(state);
      await removeState(session.places.stateFile);
      return { build: ctx.change, artifacts: state.artifacts ?? [], warnings: state.warnings };
    },
  };

  /**
   * Called with every change's status: a build that ended lets go of its
   * places; one that failed cleans up, and so does one stopped early by
   * --thru without -w (nothing can resume it: --resume needs -w).
   */
  async changeEnded(e: StatusEvent): Promise<void> {
    const session = this.open.get(e.change);
    if (!session || !isEnded(e.status)) return;
    this.open.delete(e.change);
    if (session.secrets !== undefined) this.deps.secrets.forget(session.secrets);
    try {
      const resumable = session.params.workDir !== undefined;
      if (e.status !== 'Done' || !resumable) await this.cleanUp(session.places, resumable);
    } catch (err) {
      this.deps.logger.warn(`cannot clean up after build ${e.change}: ${(err as Error).message}`);
    } finally {
      session.places.close();
    }
  }

  /** A failed (or unfinished) build: its temporary outputs go; its work dir and state too, unless kept for --resume (which makes the outputs again). */
  private async cleanUp(places: BuildPlaces, resumable: boolean): Promise<void> {
    const state = await loadState(places.stateFile).catch(() => undefined);
    if (!resumable) {
      // A build that failed in its first step saved no state, but has its work dir all the same.
      await places.discard(state);
      await removeState(places.stateFile);
      return;
    }
    if (!state) return;
    places.discardOutputs(state);
    await saveState(places.stateFile, state);
  }

  /**
   * At start-up: what builds left when the daemon stopped or crashed under
   * them (their changes are Error now) is removed: temporary outputs always,
   * work dirs in the state dir too. A build in -w DIR keeps its work dir and
   * state for --resume.
   */
  async cleanLeftovers(statusOf: (change: string) => Promise<ChangeStatus | undefined>): Promise<void> {
    const dir = join(this.deps.stateDir, 'builds');
    let entries: string[];
    try {
      entries = await readdir(dir);
    } catch {
      return;
    }
    for (const entry of entries) {
      const resumable = /^w-[0-9a-f]+\.state\.json$/.test(entry);
      const id = /^(\d+)(?:\.state\.json)?$/.exec(entry)?.[1];
      if (!resumable && id === undefined) continue;
      const path = join(dir, entry);
      try {
        if (entry.endsWith('.state.json')) {
          const state = await loadState(path).catch(() => undefined);
          if (resumable && (state === undefined || state.outputs.length === 0 || [...this.open.values()].some((s) => s.places.stateFile === path))) continue;
          if (id !== undefined && (this.open.has(id) || ['Do', 'Doing'].includes((await statusOf(id)) ?? ''))) continue;
          if (state) {
            try {
              const output = OutputDir.open(state.owner, state.outputDir, 'output directory', { create: false });
              try {
                for (const o of state.outputs) output.discard(o.temp);
              } finally {
                output.close();
              }
            } catch {
              // the output directory is gone: so are the temporary files in it
            }
            state.outputs = [];
          }
          // A build in -w DIR keeps its state (and work dir) for --resume, without the partial outputs.
          if (resumable && state) await saveState(path, state);
          else await removeState(path);
        } else {
          if (this.open.has(id!) || ['Do', 'Doing'].includes((await statusOf(id!)) ?? '')) continue;
          await rm(path, { recursive: true, force: true });
        }
        this.deps.logger.info(`removed what an interrupted build left: ${entry}`);
      } catch (err) {
        this.deps.logger.warn(`cannot remove what an interrupted build left (${path}): ${(err as Error).message}`);
      }
    }
  }
}

const isEnded = (status: ChangeStatus) => status === 'Done' || status === 'Error' || status === 'Abort';
