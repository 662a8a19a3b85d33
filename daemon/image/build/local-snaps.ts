import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { parse } from 'yaml';
import { decodeStream, encodeAssertion, type SnapRevisionInfo } from '../../asserts/index.js';
import { isCoreforgeError } from '../../errors.js';
import { imageError } from '../errors.js';
import type { Exec } from './exec.js';
import type { SnapSource, SnapYamlInfo, SourcedSnap } from './snap-source.js';

/**
 * Edge module: local `.snap` files as a SnapSource. meta/snap.yaml is read
 * with `unsquashfs -cat` (no mount, no root); a `NAME.assert` beside
 * `NAME.snap` supplies the snap-revision and snap-declaration, otherwise the
 * snap is unasserted with revision x1 (and the build warns, as snapd does).
 */

const snapTypes = ['app', 'gadget', 'kernel', 'base', 'os', 'snapd'];

function bad(path: string, problem: string): never {
  throw imageError('invalid-snap', `cannot use snap file ${path}: ${problem}`);
}

/** Parses meta/snap.yaml text with the checks seeding needs. */
export function parseSnapYaml(text: string, path: string): SnapYamlInfo {
  let y: unknown;
  try {
    y = parse(text);
  } catch (err) {
    bad(path, `meta/snap.yaml is not valid YAML (${(err as Error).message.split('\n')[0]}); fix the snap's snapcraft.yaml and rebuild it`);
  }
  if (y === null || typeof y !== 'object' || Array.isArray(y)) bad(path, 'meta/snap.yaml is not a map');
  const m = y as Record<string, unknown>;
  const name = m.name;
  if (typeof name !== 'string' || !/^[a-z0-9](?:-?[a-z0-9])*$/.test(name) || !/[a-z]/.test(name)) {
    bad(path, `meta/snap.yaml has an invalid snap name ${JSON.stringify(name ?? null)}; names are lowercase letters, digits and dashes`);
  }
  const version = m.version;
  if (version === undefined || version === null || String(version) === '') bad(path, `meta/snap.yaml of "${name}" has no version`);
  const type = m.type === undefined ? 'app' : String(m.type);
  if (!snapTypes.includes(type)) bad(path, `meta/snap.yaml of "${name}" has unknown type "${type}"; use one of ${snapTypes.join(', ')}`);
  const archs = m.architectures === undefined ? ['all'] : m.architectures;
  if (!Array.isArray(archs) || archs.some((a) => typeof a !== 'string')) bad(path, `meta/snap.yaml of "${name}" has an invalid architectures list`);
  return { name, version: String(version), type, architectures: archs as string[], base: typeof m.base === 'string' ? m.base : '' };
}

/** SHA3-384 of a file in snapd's form (base64url, no padding), and its size. */
export async function snapDigest(path: string): Promise<{ sha3_384: string; size: number }> {
  const h = createHash('sha3-384');
  let size = 0;
  for await (const chunk of createReadStream(path)) {
    h.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha3_384: h.digest().toString('base64url'), size };
}

/** Reads one local snap file: metadata, digest, and the assertions beside it. */
export async function inspectLocalSnap(path: string, exec: Exec, signal?: AbortSignal): Promise<SourcedSnap> {
  if (!path.endsWith('.snap')) bad(path, 'local snaps must end in .snap');
  try {
    if (!(await stat(path)).isFile()) bad(path, 'it is not a regular file');
  } catch (err) {
    if (isCoreforgeError(err)) throw err;
    bad(path, 'it does not exist; check the --snap path');
  }
  let yamlText: string;
  try {
    yamlText = (await exec('unsquashfs', ['-cat', path, 'meta/snap.yaml'], { signal, what: `read meta/snap.yaml of ${path}` })).stdout.toString('utf8');
  } catch (err) {
    if (isCoreforgeError(err) && err.kind === 'build-tool-failed' && !/not installed|stopped/.test(err.message)) {
      bad(path, 'it is not a squashfs snap with a meta/snap.yaml; pass a .snap built by snapcraft');
    }
    throw err;
  }
  const info = parseSnapYaml(yamlText, path);
  const { sha3_384, size } = await snapDigest(path);
  const assertPath = path.replace(/\.snap$/, '.assert');
  let assertText: Buffer | undefined;
  try {
    assertText = await readFile(assertPath);
  } catch {
    assertText = undefined;
  }
  if (assertText === undefined) {
    return { path, info, revision: 'x1', snapId: '', sha3_384, size, assertions: [] };
  }
  let all;
  try {
    all = decodeStream(assertText);
  } catch (err) {
    throw imageError('invalid-snap', `cannot use assertions ${assertPath}: ${(err as Error).message}`);
  }
  const rev = all.find((a) => a.info.type === 'snap-revision' && (a.info as SnapRevisionInfo).snapSha3_384 === sha3_384);
  if (!rev) {
    throw imageError(
      'invalid-snap',
      `cannot use assertions ${assertPath}: no snap-revision for ${basename(path)} (sha3-384 ${sha3_384}); download the matching .assert with the snap`,
    );
  }
  const revInfo = rev.info as SnapRevisionInfo;
  const decl = all.find((a) => a.type === 'snap-declaration' && a.headers['snap-id'] === revInfo.snapId);
  return {
    path,
    info,
    revision: String(revInfo.snapRevision),
    snapId: revInfo.snapId,
    sha3_384,
    size,
    assertions: [...(decl ? [encodeAssertion(decl)] : []), encodeAssertion(rev)],
  };
}

/** Local files as a source; `inspect()` must run first (names are only known from the files). */
export class LocalSnapSource implements SnapSource {
  readonly label = 'local snap files';
  private byName = new Map<string, SourcedSnap>();

  constructor(readonly snaps: SourcedSnap[]) {
    for (const s of snaps) this.byName.set(s.info.name, s);
  }

  static async inspect(paths: string[], exec: Exec, signal?: AbortSignal): Promise<LocalSnapSource> {
    const snaps: SourcedSnap[] = [];
    const seen = new Map<string, string>();
    for (const p of paths) {
      const s = await inspectLocalSnap(p, exec, signal);
      const other = seen.get(s.info.name);
      if (other !== undefined) throw imageError('invalid-snap-set', `local snap "${s.info.name}" is repeated in options (${other} and ${p})`);
      seen.set(s.info.name, p);
      snaps.push(s);
    }
    return new LocalSnapSource(snaps);
  }

  async find(name: string): Promise<SourcedSnap | undefined> {
    return this.byName.get(name);
  }
}
