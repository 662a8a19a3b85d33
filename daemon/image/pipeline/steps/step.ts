import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeAssertion, type ModelInfo } from '../../../asserts/index.js';
import { imageError } from '../../errors.js';
import type { Exec } from '../exec.js';
import type { ModelLookups, VerifiedModel } from '../model.js';
import type { BuildParams, BuildStepName } from '../params.js';
import type { BuildPlaces } from '../places.js';
import type { StoreSnapFinder } from '../snap-source.js';
import type { BuildState } from '../state.js';

/**
 * What every build step gets: the build's inputs, the side effects it may
 * use, the state earlier steps saved, and the places it works in. A step
 * reads what it needs from the state and writes what it found back to it;
 * the runner (runner.ts) saves the state after each step.
 */

/** Side effects a build reaches through its caller. */
export interface BuildEnv {
  exec: Exec;
  lookups: ModelLookups;
  signal?: AbortSignal;
  progress(phase: string, bytes: number, total: number): void;
  log(level: 'info' | 'warn', message: string): void;
  /** The configured store for a device architecture: snaps no local file provides come from it. */
  store?(architecture: string): StoreSnapFinder;
}

/** The directories of a work dir, one per kind of intermediate result. */
export interface WorkDirs {
  inputs: string;
  unpackGadget: string;
  unpackKernel: string;
  rootfs: string;
  boot: string;
  seed: string;
  stage: string;
}

export interface StepContext {
  params: BuildParams;
  env: BuildEnv;
  state: BuildState;
  places: BuildPlaces;
  dirs: WorkDirs;
}

export interface BuildStep {
  name: BuildStepName;
  run(ctx: StepContext): Promise<void>;
}

export function workDirs(workDir: string): WorkDirs {
  return {
    inputs: join(workDir, 'inputs'),
    unpackGadget: join(workDir, 'unpack/gadget'),
    unpackKernel: join(workDir, 'unpack/kernel'),
    rootfs: join(workDir, 'rootfs'),
    boot: join(workDir, 'boot'),
    seed: join(workDir, 'ubuntu-seed'),
    stage: join(workDir, 'stage'),
  };
}

/** Empties a directory of the work dir (a step run again starts from nothing). */
export async function fresh(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
}

/** A finding of an earlier step; its absence means the saved state is not this build's. */
export function need<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw imageError('invalid-workdir', `cannot continue the build: the work directory has no ${what}; start again without --resume`);
  return value;
}

/** Re-decodes the verified model from the params and the saved prerequisites (steps after verify-model). */
export function verified(ctx: StepContext): VerifiedModel {
  const m = need(ctx.state.model, 'verified model');
  const assertion = decodeAssertion(ctx.params.model);
  return {
    assertion,
    info: assertion.info as ModelInfo,
    text: ctx.params.model.endsWith('\n') ? ctx.params.model : `${ctx.params.model}\n`,
    prerequisites: m.prerequisites.map((t) => decodeAssertion(t)),
  };
}
