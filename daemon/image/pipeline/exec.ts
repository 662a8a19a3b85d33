import { spawn } from 'node:child_process';
import { imageError } from '../errors.js';

/**
 * Edge module: runs the external tools of a build (unsquashfs, mkfs.vfat,
 * mcopy, mkfs.ext4 under fakeroot). Injected into the pipeline so tests can
 * wrap or replace it; failures become build-tool-failed or no-space errors.
 */

export interface ToolRun {
  stdout: Buffer;
  stderr: string;
}

export interface ToolOptions {
  env?: Record<string, string>;
  signal?: AbortSignal;
  /** What the tool was doing, for the error message ("make the vfat filesystem of structure #2"). */
  what: string;
}

/** Runs a program without a shell and returns its output; throws a CoreforgeError when it fails. */
export type Exec = (file: string, args: string[], options: ToolOptions) => Promise<ToolRun>;

const noSpace = /no space left on device|ENOSPC|disk full|Could not allocate|No space/i;

/** The real Exec, with a fixed locale and the caller's extra environment. */
export const runTool: Exec = (file, args, options) =>
  new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      signal: options.signal,
      env: { ...process.env, LC_ALL: 'C', ...options.env },
    });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (e.name === 'AbortError') return reject(imageError('build-tool-failed', `cannot ${options.what}: the build was stopped`));
      if (e.code === 'ENOENT') {
        return reject(imageError('build-tool-failed', `cannot ${options.what}: ${file} is not installed; install it (see "coreforge system-info" for the Debian package)`));
      }
      reject(imageError('build-tool-failed', `cannot ${options.what}: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      if (code === 0) return resolve({ stdout: Buffer.concat(out), stderr: err });
      const detail = err.trim().split('\n').slice(-3).join('; ') || `exit ${code ?? signal}`;
      if (noSpace.test(err)) {
        return reject(imageError('no-space', `cannot ${options.what}: no space left on device (${detail}); free space or choose another output or work directory`));
      }
      reject(imageError('build-tool-failed', `cannot ${options.what}: ${file} failed: ${detail}`));
    });
  });
