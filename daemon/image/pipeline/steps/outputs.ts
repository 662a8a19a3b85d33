import { createHash } from 'node:crypto';
import { fsyncSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { OutputDir, type OutputFile } from '../../../caller/files.js';
import { isCoreforgeError } from '../../../errors.js';
import { imageError } from '../../errors.js';
import { saveState } from '../state.js';
import { writeError } from '../volume.js';
import type { StepContext } from './step.js';

/**
 * The build's files in the caller's output directory: each written under a
 * temporary name recorded in the state (so a failure or a crash can remove
 * it) and given its name only by the finish step.
 */

/** The build's own error for an output directory the caller may not write to. */
export function outputDirError(err: unknown, dir: string): Error {
  const code = isCoreforgeError(err) ? (err.details?.code as string | undefined) : (err as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC') return imageError('no-space', `cannot use output directory ${dir}: no space left on device; free space or choose another directory`);
  if (isCoreforgeError(err) && (err.kind === 'permission-denied' || err.kind === 'not-a-regular-file')) {
    return imageError('output-not-writable', `cannot use output directory ${dir}: it is not writable (${code ?? err.kind}); choose a directory you can write to with -O`);
  }
  return err as Error;
}

/**
 * Starts an output file: its temporary name is recorded in the saved state
 * before the file is created as the caller, so a failure or a crash at any
 * point can remove it.
 */
export async function newOutput(ctx: StepContext, name: string): Promise<OutputFile> {
  dropOutput(ctx, name);
  const temp = OutputDir.tempName(name);
  ctx.state.outputs.push({ name, temp });
  await saveState(ctx.places.stateFile, ctx.state);
  return ctx.places.output.create(name, temp);
}

/** Removes an output file an earlier step started, and its record. */
export function dropOutput(ctx: StepContext, name: string): void {
  const earlier = ctx.state.outputs.findIndex((o) => o.name === name);
  if (earlier < 0) return;
  ctx.places.output.discard(ctx.state.outputs[earlier]!.temp);
  ctx.state.outputs.splice(earlier, 1);
}

/** An output file an earlier step started. */
export function outputFile(ctx: StepContext, name: string): OutputFile {
  const o = ctx.state.outputs.find((x) => x.name === name);
  const file = o && ctx.places.output.reopen(o.name, o.temp);
  if (!file) throw imageError('invalid-workdir', `cannot finish the build: ${name} in ${ctx.params.outputDir} is no longer being written (its temporary file is gone); start again without --resume`);
  return file;
}

/** Writes a small output (bmap, manifest, build.json) into a new temporary output file, flushed to disk. */
export async function writeOutputText(ctx: StepContext, name: string, text: string): Promise<{ size: number; sha256: string }> {
  const file = await newOutput(ctx, name);
  const data = Buffer.from(text);
  try {
    for (let at = 0; at < data.length; ) at += writeSync(file.fd, data, at, data.length - at, at);
    fsyncSync(file.fd);
  } catch (err) {
    throw writeError(err, `write ${join(ctx.params.outputDir, name)}`);
  } finally {
    file.close();
  }
  return { size: data.length, sha256: createHash('sha256').update(data).digest('hex') };
}

/** Flushes a written image to disk. */
export function syncFile(file: OutputFile, what: string): void {
  try {
    fsyncSync(file.fd);
  } catch (err) {
    throw writeError(err, what);
  }
}
