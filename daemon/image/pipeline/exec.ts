import { spawn } from 'node:child_process';
import { basename } from 'node:path';
import { toolSpecs } from '../../system/tools.js';
import { imageError } from '../errors.js';

/**
 * Edge module: runs the external tools of a build (unsquashfs, mkfs.vfat,
 * mcopy, mkfs.ext4 under fakeroot). Injected into the pipeline so tests can
 * wrap or replace it; failures become errors a client can branch on:
 * tool-missing (with the Debian package), aborted, no-space, or
 * build-tool-failed with the tool's stderr tail.
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
/** How much of a failed tool's stderr the error's details keep: enough to diagnose, small enough for a change row. */
const stderrTailLines = 20;

/** The Debian package that ships a program, when coreforge knows it. */
function debianPackageOf(file: string): string | undefined {
  return toolSpecs.find((t) => t.name === basename(file))?.package;
}

/** The error for a program that is not there, naming the package to install when it is known. */
function toolMissing(file: string, what: string) {
  const pkg = debianPackageOf(file);
  const fix = pkg ? `install the Debian package ${pkg} (sudo apt install ${pkg})` : 'install it (see "coreforge system-info" for the Debian package)';
  return imageError('tool-missing', `cannot ${what}: ${file} is not installed; ${fix}`, { tool: file, ...(pkg ? { package: pkg } : {}) });
}

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
      if (e.name === 'AbortError') return reject(imageError('aborted', `cannot ${options.what}: the build was stopped`, { tool: file }));
      if (e.code === 'ENOENT') return reject(toolMissing(file, options.what));
      reject(imageError('build-tool-failed', `cannot ${options.what}: ${e.message}`, { tool: file, ...(e.code ? { code: e.code } : {}) }));
    });
    child.on('close', (code, signal) => {
      if (code === 0) return resolve({ stdout: Buffer.concat(out), stderr: err });
      const lines = err.trim().split('\n');
      const detail = lines.slice(-3).join('; ') || `exit ${code ?? signal}`;
      const details = { tool: file, 'exit-code': code, signal, stderr: err.trim() === '' ? '' : lines.slice(-stderrTailLines).join('\n') };
      if (noSpace.test(err)) {
        return reject(imageError('no-space', `cannot ${options.what}: no space left on device (${detail}); free space or choose another output or work directory`, details));
      }
      reject(imageError('build-tool-failed', `cannot ${options.what}: ${file} failed: ${detail}`, details));
    });
  });
