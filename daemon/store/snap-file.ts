// Reading a .snap file for the store: its meta/snap.yaml (through `unsquashfs
// -cat`, no root needed), SHA3-384 and size. Edge module: runs a program, reads files.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { isValidSnapName } from '../asserts/index.js';
import { parseBoundedYaml, YamlLimitError } from '../bounded-yaml.js';
import { storeError } from './errors.js';

/** What the store needs from meta/snap.yaml. */
export interface SnapMeta {
  name: string;
  version: string;
  type: string;
  architectures: string[];
  base?: string;
  confinement: string;
  grade: string;
  summary: string;
}

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

const snapTypes = ['app', 'gadget', 'kernel', 'base', 'os', 'snapd'];
// snapd's snap.ValidateVersion
const versionPattern = /^[a-zA-Z0-9](?:[a-zA-Z0-9:.+~-]{0,30}[a-zA-Z0-9+~])?$/;

/** Checks parsed snap.yaml against snapd's rules for the fields the store uses; returns the first problem. */
export function checkSnapYaml(y: unknown): SnapMeta | string {
  if (y === null || typeof y !== 'object' || Array.isArray(y)) return 'meta/snap.yaml is not a map of fields';
  const m = y as Record<string, unknown>;
  if (typeof m.name !== 'string' || !isValidSnapName(m.name)) return `invalid snap name: ${JSON.stringify(m.name ?? '')}`;
  if (m.version === undefined || m.version === null || m.version === '') return 'invalid snap version: cannot be empty';
  const version = String(m.version);
  if (!versionPattern.test(version)) return `invalid snap version ${JSON.stringify(version)}: must be at most 32 letters, digits and ":.+~-", not starting or ending with ":.-"`;
  const type = m.type === undefined ? 'app' : m.type;
  if (typeof type !== 'string' || !snapTypes.includes(type)) return `invalid snap type ${JSON.stringify(type)}: must be one of ${snapTypes.join(', ')}`;
  let architectures = ['all'];
  if (m.architectures !== undefined) {
    if (!Array.isArray(m.architectures) || m.architectures.length === 0 || !m.architectures.every((a) => typeof a === 'string' && /^[a-z0-9]+$/.test(a))) {
      return '"architectures" must be a non-empty list of architecture names such as amd64';
    }
    architectures = m.architectures as string[];
  }
  const str = (v: unknown, dflt: string) => (typeof v === 'string' ? v : dflt);
  return {
    name: m.name,
    version,
    type,
    architectures,
    ...(typeof m.base === 'string' ? { base: m.base } : {}),
    confinement: str(m.confinement, 'strict'),
    grade: str(m.grade, 'stable'),
    summary: str(m.summary, ''),
  };
}

/** Reads and checks meta/snap.yaml of a .snap file; `invalid-snap` errors name the file and the fix. */
export async function readSnapMeta(file: string, run: RunProgram = execProgram, shown = file): Promise<SnapMeta> {
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
  let y: unknown;
  try {
    y = parseBoundedYaml(text, 'meta/snap.yaml');
  } catch (err) {
    if (err instanceof YamlLimitError) throw bad(err.message);
    throw bad(`meta/snap.yaml is not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  const meta = checkSnapYaml(y);
  if (typeof meta === 'string') throw bad(`meta/snap.yaml: ${meta}`);
  return meta;
}

/** SHA3-384 (snapd's base64url form) and size of a file, streamed. */
export async function fileSha3_384(file: string): Promise<{ sha3_384: string; size: number }> {
  const h = createHash('sha3-384');
  let size = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
    h.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha3_384: h.digest('base64url'), size };
}
