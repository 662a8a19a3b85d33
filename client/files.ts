import { readFile } from 'node:fs/promises';

/** Why a file could not be read, in words (not "ENOENT"). */
export function fileProblem(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  switch (e.code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'it is a directory';
    case 'ENOTDIR':
      return 'a part of the path is not a directory';
    default:
      return e.message ?? String(err);
  }
}

/** Reads a file the user named, failing with "cannot read WHAT PATH: WHY; FIX". */
export async function readUserFile(path: string, what: string, fix = 'check the path'): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot read ${what} ${path}: ${fileProblem(err)}; ${fix}`);
  }
}
