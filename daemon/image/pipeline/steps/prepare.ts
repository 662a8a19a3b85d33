import { copyFile, mkdir, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { openInput, readInput } from '../../../caller/files.js';
import { fsConstants, linkAt } from '../../../caller/native.js';
import { isCoreforgeError } from '../../../errors.js';
import { imageError } from '../../errors.js';
import { MiB } from '../../gadget/quantity.js';
import { dropOutput, newOutput, outputDirError } from './outputs.js';
import type { BuildStep, StepContext } from './step.js';

/**
 * Takes the local snap files (and the .assert beside each) into the work
 * dir: each opened with the caller's rights, then hard-linked (or copied)
 * from the opened file, so the build reads what the caller could read and
 * nothing the caller renames or links afterwards.
 */
async function takeInputs(ctx: StepContext): Promise<{ origin: string; path: string }[]> {
  await rm(ctx.dirs.inputs, { recursive: true, force: true });
  const out: { origin: string; path: string }[] = [];
  for (const [i, origin] of ctx.params.snaps.entries()) {
    if (!origin.endsWith('.snap')) throw imageError('invalid-snap', `cannot use snap file ${origin}: local snaps must end in .snap`);
    const dir = join(ctx.dirs.inputs, String(i));
    await mkdir(dir, { recursive: true });
    const path = join(dir, basename(origin));
    let file;
    try {
      file = openInput(ctx.places.caller, origin, 'snap file');
    } catch (err) {
      if (isCoreforgeError(err) && err.kind === 'file-not-found') throw imageError('invalid-snap', `cannot use snap file ${origin}: it does not exist; check the --snap path`);
      throw err;
    }
    try {
      try {
        linkAt(fsConstants.AT_FDCWD, `/proc/self/fd/${file.fd}`, fsConstants.AT_FDCWD, path, fsConstants.AT_SYMLINK_FOLLOW);
      } catch {
        // another filesystem (EXDEV) or one that refuses links: a copy of the same open file
        await copyFile(file.path, path);
      }
    } finally {
      file.close();
    }
    const assertOrigin = origin.replace(/\.snap$/, '.assert');
    let assertText: Buffer | undefined;
    try {
      assertText = readInput(ctx.places.caller, assertOrigin, 'assertion file', 16 * MiB);
    } catch (err) {
      if (!isCoreforgeError(err) || err.kind !== 'file-not-found') throw err;
    }
    if (assertText !== undefined) await writeFile(path.replace(/\.snap$/, '.assert'), assertText);
    out.push({ origin, path });
  }
  return out;
}

/** Checks that the caller may write the outputs, and takes the local snap files in. */
export const prepare: BuildStep = {
  name: 'prepare',
  async run(ctx) {
    // Fails now, not after the build, when the caller may not create files in the output directory.
    try {
      (await newOutput(ctx, '.coreforge-probe')).close();
    } catch (err) {
      throw outputDirError(err, ctx.params.outputDir);
    } finally {
      dropOutput(ctx, '.coreforge-probe');
    }
    ctx.state.inputs = await takeInputs(ctx);
  },
};
