import { mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { ByteRange } from '../../flash/ranges.js';
import type { BmapInput } from '../bmap.js';
import type { PlannedPartition } from '../partition/table.js';
import { imageError } from '../errors.js';
import type { BuildArtifact, BuildStepName } from './params.js';
import type { PlannedSnap } from './resolve.js';
import type { SourcedSnap } from './snap-source.js';

/**
 * What the steps of a build have found and made so far; saved after each
 * step in the daemon's own state dir (never in a directory a caller can
 * write), so a resumed build trusts only what the daemon wrote.
 */
export interface BuildState {
  version: 2;
  fingerprint: string;
  done: BuildStepName[];
  /** Milliseconds per finished step. */
  timings: Partial<Record<BuildStepName, number>>;
  warnings: string[];
  /** Who runs the build: its outputs are created and renamed with these rights. */
  owner: { pid: number; uid: number; gid: number; groups: number[] };
  /** The output directory as the request named it. */
  outputDir: string;
  /** The work directory the daemon made inside the caller's `-w DIR` (absent: one in the state dir). */
  work?: { parent: string; name: string; dev: number; ino: number };
  /** Files written under temporary names in the output directory; the finish step gives them their names, a failure removes them. */
  outputs: { name: string; temp: string }[];
  /** The local snap files, taken into the work dir (same order as the request's). */
  inputs?: { origin: string; path: string }[];
  model?: { name: string; brand: string; grade: string; uc20: boolean; architecture: string; base: string; prerequisites: string[]; epoch: number };
  sourced?: SourcedSnap[];
  seed?: { planned: PlannedSnap; sourced: SourcedSnap }[];
  label?: string;
  volumes?: {
    name: string;
    size: number;
    written: ByteRange[];
    partitions: PlannedPartition[];
    diskId: string;
    /** The image's bmap ranges with their SHA-256, hashed as soon as the image was complete (a state saved by an older coreforged has none: write-bmap hashes them). */
    bmap?: BmapInput;
  }[];
  artifacts?: BuildArtifact[];
}

/** A saved bmap input as hashBmapRanges makes it: sizes, then inclusive block ranges with a hex SHA-256 each. */
function validBmap(b: BmapInput | null): boolean {
  const count = (n: unknown) => Number.isSafeInteger(n) && (n as number) >= 0;
  return (
    typeof b === 'object' &&
    b !== null &&
    count(b.imageSize) &&
    count(b.blockSize) &&
    Array.isArray(b.ranges) &&
    b.ranges.every((r) => count(r.first) && count(r.last) && r.first <= r.last && typeof r.sha256 === 'string' && /^[0-9a-f]{64}$/.test(r.sha256))
  );
}

/** Reads a saved build state; undefined when there is none. */
export async function loadState(path: string): Promise<BuildState | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const s = JSON.parse(text) as BuildState;
    if (s.version !== 2 || !Array.isArray(s.done) || !Array.isArray(s.outputs)) throw new Error('unknown version');
    // byte ranges were {offset, length} before they became {start, end}: such a state is from an older coreforged
    if (s.volumes?.some((v) => v.written.some((r) => typeof r.start !== 'number' || typeof r.end !== 'number'))) throw new Error('its byte ranges are of an older coreforged');
    if (s.volumes?.some((v) => v.bmap !== undefined && !validBmap(v.bmap))) throw new Error('its bmap ranges are not ranges with a SHA-256');
    return s;
  } catch (err) {
    throw imageError('invalid-workdir', `cannot resume the build: its saved state ${path} is damaged (${(err as Error).message}); start again without --resume`);
  }
}

/** Saves the state through a temporary name, so a crash leaves the previous state or the new one. */
export async function saveState(path: string, state: BuildState): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.tmp`;
  await writeFile(tmp, JSON.stringify(state, null, 1), { mode: 0o600 });
  await rename(tmp, path);
}

export async function removeState(path: string): Promise<void> {
  await unlink(path).catch(() => {});
}
