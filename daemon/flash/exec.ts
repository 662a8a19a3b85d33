import { execFile } from 'node:child_process';

/** What a finished program printed and how it exited. */
export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program without a shell; injected into flash modules so tests can stand in for lsblk, umount, xz... */
export type Exec = (file: string, args: string[], signal?: AbortSignal) => Promise<ExecResult>;

/** The real Exec: never throws for a non-zero exit (callers read `code`), only for a program that cannot start. */
export const runProgram: Exec = (file, args, signal) =>
  new Promise((resolve, reject) => {
    execFile(file, args, { maxBuffer: 16 * 1024 * 1024, signal, env: { ...process.env, LC_ALL: 'C' } }, (err, stdout, stderr) => {
      if (err && typeof (err as NodeJS.ErrnoException).code === 'string') {
        reject(err);
        return;
      }
      const code = err ? Number((err as { code?: unknown }).code ?? 1) : 0;
      resolve({ code: Number.isFinite(code) ? code : 1, stdout: String(stdout), stderr: String(stderr) });
    });
  });
