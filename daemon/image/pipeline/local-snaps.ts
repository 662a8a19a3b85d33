import { availableParallelism } from 'node:os';
import { createHash } from 'node:crypto';
import { open, readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { decodeStream, encodeAssertion, type SnapRevisionInfo } from '../../asserts/index.js';
import { isCoreforgeError } from '../../errors.js';
import { imageError } from '../errors.js';
import { snapFileDigest } from '../../snap/digest.js';
import { parseSnapYaml } from '../../snap/snap-yaml.js';
import { digestInWorker } from '../digest-worker.js';
import type { Exec } from './exec.js';
import type { SnapSource, SnapYamlInfo, SourcedSnap } from './snap-source.js';

/**
 * Edge module: local `.snap` files as a SnapSource. meta/snap.yaml is read
 * with `unsquashfs -cat` (no mount, no root); a `NAME.assert` beside
 * `NAME.snap` supplies the snap-revision and snap-declaration, otherwise the
 * snap is unasserted with revision x1 (and the build warns, as snapd does).
 * Only an asserted snap's SHA3-384 is needed before the build goes on: it
 * picks the snap's snap-revision.
 */

function bad(path: string, problem: string): never {
  throw imageError('invalid-snap', `cannot use snap file ${path}: ${problem}`);
}

/** SHA-256 digests of unasserted snaps started in the background, by file identity; one at a time (one worker thread). */
const pendingSha256 = new Map<string, Promise<string>>();
let sha256Queue: Promise<unknown> = Promise.resolve();

async function fileKey(path: string): Promise<string> {
  const st = await stat(path);
  // not the ctime: a UC16/18 seed tree hard-links the file meanwhile
  return `${path}\0${st.dev}\0${st.ino}\0${st.size}\0${st.mtimeMs}`;
}

async function startSha256(path: string): Promise<void> {
  const key = await fileKey(path);
  if (pendingSha256.has(key)) return;
  const p = sha256Queue.then(() => digestInWorker({ path, algorithm: 'sha256' })).then((d) => d.digest.toString('hex'));
  sha256Queue = p.catch(() => {});
  p.catch(() => pendingSha256.delete(key));
  pendingSha256.set(key, p);
}

/**
 * The SHA-256 of an unasserted local snap, for build.json. Nothing in the
 * image needs it (snapd has no digest for unasserted snaps), so inspecting
 * the snap starts it on a worker thread and the build goes on, copying the
 * same file into the image meanwhile: this waits for that digest (or
 * computes it, in a resumed build).
 */
export async function unassertedSnapSha256(snap: SourcedSnap, signal?: AbortSignal): Promise<string> {
  if (snap.sha256) return snap.sha256;
  const key = await fileKey(snap.path);
  const pending = pendingSha256.get(key);
  pendingSha256.delete(key);
  return pending ?? (await digestInWorker({ path: snap.path, algorithm: 'sha256' }, signal)).digest.toString('hex');
}

/**
 * A cheap identity of an unasserted snap's content for the image's ids
 * (GUIDs, UUIDs, volume ids): its size and a SHA-256 of its first 64 KiB
 * (the squashfs superblock with its time and sizes, and the first data).
 * Equal files give equal ids without reading the whole snap before the
 * build may start copying it.
 */
async function headIdentity(path: string): Promise<string> {
  const file = await open(path, 'r');
  try {
    const head = Buffer.alloc(64 * 1024);
    const { bytesRead } = await file.read(head, 0, head.length, 0);
    return `${(await file.stat()).size}:${createHash('sha256').update(head.subarray(0, bytesRead)).digest('hex')}`;
  } finally {
    await file.close();
  }
}

/**
 * Reads one local snap file: metadata, digest, and the assertions beside it.
 * `origin` is the path the request named (for messages), when `path` is the
 * daemon's copy of it.
 */
export async function inspectLocalSnap(path: string, exec: Exec, signal?: AbortSignal, origin = path): Promise<SourcedSnap> {
  if (!path.endsWith('.snap')) bad(origin, 'local snaps must end in .snap');
  try {
    if (!(await stat(path)).isFile()) bad(origin, 'it is not a regular file');
  } catch (err) {
    if (isCoreforgeError(err)) throw err;
    bad(origin, 'it does not exist; check the --snap path');
  }
  let yamlText: string;
  try {
    yamlText = (await exec('unsquashfs', ['-cat', path, 'meta/snap.yaml'], { signal, what: `read meta/snap.yaml of ${origin}` })).stdout.toString('utf8');
  } catch (err) {
    if (isCoreforgeError(err) && err.kind === 'build-tool-failed') {
      bad(origin, 'it is not a squashfs snap with a meta/snap.yaml; pass a .snap built by snapcraft');
    }
    throw err;
  }
  const parsed = parseSnapYaml(yamlText);
  if (typeof parsed === 'string') bad(origin, parsed);
  const info: SnapYamlInfo = { name: parsed.name, version: parsed.version, type: parsed.type, architectures: parsed.architectures, base: parsed.base };
  const assertPath = path.replace(/\.snap$/, '.assert');
  let assertText: Buffer | undefined;
  try {
    assertText = await readFile(assertPath);
  } catch {
    assertText = undefined;
  }
  if (assertText === undefined) {
    // Unasserted: no assertion to match, so no SHA3-384 to compute; the SHA-256 for build.json runs beside the build.
    await startSha256(path);
    return { path, ...(origin !== path ? { origin } : {}), info, revision: 'x1', snapId: '', sha3_384: '', identity: await headIdentity(path), size: (await stat(path)).size, assertions: [] };
  }
  const { sha3_384, size } = await snapFileDigest(path, signal);
  let all;
  try {
    all = decodeStream(assertText);
  } catch (err) {
    throw imageError('invalid-snap', `cannot use assertions ${origin.replace(/\.snap$/, '.assert')}: ${(err as Error).message}`);
  }
  const rev = all.find((a) => a.info.type === 'snap-revision' && (a.info as SnapRevisionInfo).snapSha3_384 === sha3_384);
  if (!rev) {
    throw imageError(
      'invalid-snap',
      `cannot use assertions ${origin.replace(/\.snap$/, '.assert')}: no snap-revision for ${basename(origin)} (sha3-384 ${sha3_384}); download the matching .assert with the snap`,
    );
  }
  const revInfo = rev.info as SnapRevisionInfo;
  const decl = all.find((a) => a.type === 'snap-declaration' && a.headers['snap-id'] === revInfo.snapId);
  return {
    path,
    ...(origin !== path ? { origin } : {}),
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

  /** Inspects the snap files; each is a path, or the daemon's copy of a file the request named (`origin`). */
  static async inspect(files: (string | { origin: string; path: string })[], exec: Exec, signal?: AbortSignal): Promise<LocalSnapSource> {
    const paths = files.map((f) => (typeof f === 'string' ? f : f.path));
    const origins = files.map((f) => (typeof f === 'string' ? f : f.origin));
    // Two at a time: the digests run on worker threads, one core each (each thread costs memory).
    const results: Promise<SourcedSnap>[] = new Array(paths.length);
    let next = 0;
    const lanes = Array.from({ length: Math.min(paths.length, Math.max(1, Math.min(2, availableParallelism()))) }, async () => {
      for (let i = next++; i < paths.length; i = next++) {
        results[i] = inspectLocalSnap(paths[i]!, exec, signal, origins[i]);
        await results[i]!.catch(() => {});
      }
    });
    await Promise.all(lanes);
    const snaps: SourcedSnap[] = [];
    const seen = new Map<string, string>();
    for (const [i, p] of origins.entries()) {
      const s = await results[i]!;
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
