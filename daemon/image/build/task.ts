import { rm } from 'node:fs/promises';
import type { TaskKind } from '../../changes/engine.js';
import type { Exec } from './exec.js';
import type { ModelLookups } from './model.js';
import type { BuildParams, BuildStepName } from './params.js';
import { runBuildStep } from './pipeline.js';
import type { ImageDigests } from './image-digests.js';
import type { BuildRepository } from './repository.js';
import type { StoreSnapFinder } from './snap-source.js';

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
}

/** What a build change stores in its data (plain JSON). */
export interface BuildChangeData {
  params: BuildParams;
  resume: boolean;
  /** The work dir was made for this build (no -w): removed once the build is done. */
  ownWorkDir?: boolean;
}

/**
 * One task per pipeline step, so a change shows the plan and where it is.
 * Each task runs its step against the work dir (skipping it when a resumed
 * build already finished it there); the last one records the artifacts
 * and hands the images to the digests computed after the build.
 */
export function buildStepTask(deps: BuildTaskDeps): TaskKind {
  return {
    name: buildStepTaskKind,
    concurrency: 2,
    async run(ctx) {
      const data = ctx.changeData as unknown as BuildChangeData;
      const step = ctx.data.step as BuildStepName;
      ctx.progress(step, 0, 0);
      const state = await runBuildStep(
        step,
        data.params,
        {
          exec: deps.exec,
          lookups: deps.lookups(),
          signal: ctx.signal,
          // downloads report their own phase ("fetch pi-kernel"); other steps report under the step's name
          progress: (phase, bytes, total) => ctx.progress(phase.startsWith('fetch ') ? phase : step, bytes, total),
          log: (level, message) => ctx.log(level, message),
          ...(deps.store ? { store: (arch: string) => deps.store!(arch) } : {}),
        },
        { resume: data.resume, first: ctx.data.first === true },
      );
      if (step !== 'finish') return undefined;
      // The build's id is its change's id.
      await deps.repo.finish(ctx.change, state.artifacts ?? [], state.warnings);
      deps.digests.start(ctx.change);
      if (data.ownWorkDir) await rm(data.params.workDir, { recursive: true, force: true });
      return { build: ctx.change, artifacts: state.artifacts ?? [], warnings: state.warnings };
    },
  };
}
