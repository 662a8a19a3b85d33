import { mkdir, rm, symlink } from 'node:fs/promises';
import type { Caller } from '../../caller/caller.js';
import { OutputDir, PrivateDir } from '../../caller/files.js';
import type { BuildState } from './state.js';

/**
 * Edge module: where a build reads, works and writes, and with whose rights.
 * The work dir is the daemon's alone (in its state dir, or a root-owned 0700
 * directory it made inside the caller's `-w DIR`), the state file is in the
 * daemon's state dir, and the output directory is held open with the
 * caller's rights (see daemon/caller/files.ts).
 */
export interface BuildPlaces {
  /** Whose rights the build's inputs and outputs are used with. */
  caller: Caller;
  /** Where the build's state is saved after each step. */
  stateFile: string;
  output: OutputDir;
  /** The work dir of this build: made on its first step (and recorded in the state), found again after. A path only the daemon can write under. */
  work(state: BuildState): Promise<string>;
  /** Removes what a build left behind: its work dir and the temporary outputs its state records (none when it saved no state). */
  discard(state: BuildState | undefined): Promise<void>;
  /** Removes only the build's temporary outputs (a failed build that may be resumed keeps its work dir). */
  discardOutputs(state: BuildState): void;
  /** Once the build is done: the work dir goes (or, made in `-w DIR`, is given to the caller). */
  finished(state: BuildState): Promise<void>;
  /** Closes the directories held open for one step. */
  close(): void;
}

/** Discards the temporary outputs a state records. */
export function discardOutputs(output: OutputDir, state: BuildState): void {
  for (const o of state.outputs) output.discard(o.temp);
  state.outputs = [];
}

/** A work dir at a fixed path the daemon owns (its state dir, or a library caller's own directory). */
export function fixedPlaces(options: { caller: Caller; outputDir: string; workDir: string; stateFile: string }): BuildPlaces {
  const output = OutputDir.open(options.caller, options.outputDir, 'output directory');
  return {
    caller: options.caller,
    stateFile: options.stateFile,
    output,
    async work() {
      await mkdir(options.workDir, { recursive: true, mode: 0o700 });
      return options.workDir;
    },
    async discard(state) {
      if (state) discardOutputs(output, state);
      await rm(options.workDir, { recursive: true, force: true });
    },
    discardOutputs: (state) => discardOutputs(output, state),
    async finished() {
      await rm(options.workDir, { recursive: true, force: true });
    },
    close: () => output.close(),
  };
}

/**
 * The work dir the daemon makes in the caller's `-w DIR`: kept for `--resume`,
 * given to the caller once the build is done. The build reaches it through
 * a symlink in the daemon's state dir to the open directory (/proc/PID/fd/N),
 * so the paths a build saves in its state mean the same after a restart.
 */
export function callerWorkPlaces(options: { caller: Caller; outputDir: string; workParent: string; workName: string; stateFile: string }): BuildPlaces {
  const output = OutputDir.open(options.caller, options.outputDir, 'output directory');
  const link = options.stateFile.replace(/\.state\.json$/, '.work');
  const opened: PrivateDir[] = [];
  const reopen = (state: BuildState): PrivateDir => {
    const w = state.work;
    if (!w) throw new Error('the build state names no work directory');
    const known = opened.find((d) => d.dev === w.dev && d.ino === w.ino);
    if (known) return known;
    const dir = PrivateDir.reopen(options.caller, w.parent, w.name, w, 'work directory');
    opened.push(dir);
    return dir;
  };
  const pointAt = async (dir: PrivateDir): Promise<string> => {
    await rm(link, { force: true });
    await symlink(dir.path, link);
    return link;
  };
  return {
    caller: options.caller,
    stateFile: options.stateFile,
    output,
    async work(state) {
      if (state.work) return pointAt(reopen(state));
      const dir = PrivateDir.create(options.caller, options.workParent, options.workName, 'work directory');
      opened.push(dir);
      state.work = { parent: dir.parent, name: dir.name, dev: dir.dev, ino: dir.ino };
      return pointAt(dir);
    },
    discardOutputs: (state) => discardOutputs(output, state),
    async discard(state) {
      if (!state) return;
      discardOutputs(output, state);
      if (!state.work) return;
      try {
        await reopen(state).remove(options.caller);
      } catch {
        // moved or replaced by its owner since: it is not the daemon's to remove any more
      }
    },
    async finished(state) {
      if (state.work) await reopen(state).handOver(options.caller);
    },
    close: () => {
      for (const d of opened.splice(0)) d.close();
      output.close();
      void rm(link, { force: true });
    },
  };
}
