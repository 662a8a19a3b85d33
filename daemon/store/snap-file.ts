// Reading a .snap file for the store: its meta/snap.yaml through `unsquashfs
// -cat` (no root needed), checked by daemon/snap. Edge module: runs a program.
import { execFile } from 'node:child_process';
import { parseSnapYaml, type SnapInfo } from '../snap/snap-yaml.js';
import { storeError } from './errors.js';

/** Runs a program and gives its stdout, or rejects with its stderr and exit code. */
export type RunProgram = (file: string, args: string[]) => Promise<Buffer>;

/** The default RunProgram: execFile, up to 16 MiB of output. */
export const execProgram: RunProgram = (file, args) =>
  new Promise((resolve, reject) => {
    execFile(file, args, { encoding: 'buffer', maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) reject(Object.assign(err, { stderr: stderr.toString() }));
      else resolve(stdout);
    });
  });

/** Reads and checks meta/snap.yaml of a .snap file; `invalid-snap` errors name the file and the fix. */
export async function readSnapMeta(file: string, run: RunProgram = execProgram, shown = file): Promise<SnapInfo> {
  const bad = (why: string) => storeError('invalid-snap', `cannot add ${shown} to the store: ${why}`);
  let text: string;
  try {
    text = (await run('unsquashfs', ['-n', '-cat', file, 'meta/snap.yaml'])).toString('utf8');
  } catch (err) {
    const stderr = String((err as { stderr?: string }).stderr ?? '');
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw bad('unsquashfs is not installed; install the Debian package squashfs-tools');
    if (/superblock|not a squashfs|Can't find/i.test(stderr)) throw bad('it is not a squashfs file; give a .snap built by snapcraft or `snap pack`');
    if (/no matches|does not exist|No such file/i.test(stderr)) throw bad('it has no meta/snap.yaml; a snap must carry its metadata in meta/snap.yaml');
    throw bad(`unsquashfs failed: ${stderr.trim().split('\n').pop() ?? (err as Error).message}`);
  }
  const info = parseSnapYaml(text);
  if (typeof info === 'string') throw bad(info);
  return info;
}
