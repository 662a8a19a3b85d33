import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ByteRange } from '../bmap-ranges.js';
import type { PlannedPartition } from '../partition/table.js';
import { imageError } from '../errors.js';
import type { BuildArtifact, BuildStepName } from './params.js';
import type { PlannedSnap } from './resolve.js';
import type { SourcedSnap } from './snap-source.js';

/** What the steps of a build have found and made so far; saved in the work dir after each step. */
export interface BuildState {
  version: 1;
  fingerprint: string;
  done: BuildStepName[];
  /** Milliseconds per finished step. */
  timings: Partial<Record<BuildStepName, number>>;
  warnings: string[];
  model?: { name: string; brand: string; grade: string; uc20: boolean; architecture: string; base: string; prerequisites: string[]; epoch: number };
  sourced?: SourcedSnap[];
  seed?: { planned: PlannedSnap; sourced: SourcedSnap }[];
  label?: string;
  volumes?: { name: string; size: number; tempPath: string; path: string; written: ByteRange[]; partitions: PlannedPartition[]; diskId: string }[];
  artifacts?: BuildArtifact[];
}

export const stateFile = 'build-state.json';

/** Reads the saved state of a work dir; undefined when there is none. */
export async function loadState(workDir: string): Promise<BuildState | undefined> {
  let text: string;
  try {
    text = await readFile(join(workDir, stateFile), 'utf8');
  } catch {
    return undefined;
  }
  try {
    const s = JSON.parse(text) as BuildState;
    if (s.version !== 1 || !Array.isArray(s.done)) throw new Error('unknown version');
    return s;
  } catch (err) {
    throw imageError('invalid-workdir', `cannot resume from work directory ${workDir}: ${stateFile} is damaged (${(err as Error).message}); start again without --resume or use a new work directory`);
  }
}

/** Saves the state through a temporary name, so a crash leaves the previous state or the new one. */
export async function saveState(workDir: string, state: BuildState): Promise<void> {
  await mkdir(workDir, { recursive: true });
  const tmp = join(workDir, `${stateFile}.tmp`);
  await writeFile(tmp, JSON.stringify(state, null, 1));
  await rename(tmp, join(workDir, stateFile));
}
