import { fsyncSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { daemonCaller, type Caller } from '../../caller/caller.js';
import { openInput, OutputDir, readInput } from '../../caller/files.js';
import { parseBmap } from '../../flash/bmap.js';
import type { Logger } from '../../log.js';
import { digestInWorker } from '../digest-worker.js';
import type { BuildArtifact } from './params.js';
import type { BuildRepository } from './repository.js';

/**
 * Edge module: the SHA-256 of each finished image, computed after its build.
 *
 * A UC20 pc image is 3 GiB of which a tenth holds data, and hashing the
 * zeros costs more than building the image. The build is done (and the
 * image usable, with its bmap) without it; the daemon then hashes each image
 * on a worker thread, one at a time, reading only the ranges its bmap maps,
 * and records the digest in state.db and build.json. Until then the
 * artifact's sha256 is null (and stays null if the image is removed or
 * rewritten first). A daemon stopped on the way picks the work up
 * when it starts again.
 */

/**
 * SHA-256 of an image whose data lies only in the ranges its bmap maps (the
 * rest is hashed as zeros, never read). The image and its bmap sit in the
 * caller's directory: they are opened with the caller's rights.
 */
export async function imageSha256(imagePath: string, signal?: AbortSignal, caller: Caller = daemonCaller): Promise<string> {
  const bmapPath = `${imagePath}.bmap`;
  const bmap = parseBmap(readInput(caller, bmapPath, 'bmap', 256 * 1024 * 1024).toString('utf8'), bmapPath);
  const image = openInput(caller, imagePath, 'image');
  try {
    if (image.size !== bmap.imageSize) throw new Error(`image ${imagePath} is ${image.size} bytes but its bmap says ${bmap.imageSize}; it changed after the build`);
    return (await digestInWorker({ path: image.path, algorithm: 'sha256', data: bmap.ranges, size: image.size, background: true }, signal)).digest.toString('hex');
  } finally {
    image.close();
  }
}

/** Fills in the artifacts' digests in a build.json, with its owner's rights: read, written anew under a temporary name, renamed. */
async function updateBuildJson(caller: Caller, outputDir: string, artifacts: BuildArtifact[]): Promise<void> {
  let dir: OutputDir;
  let report: { artifacts?: BuildArtifact[] };
  try {
    dir = OutputDir.open(caller, outputDir, 'output directory', { create: false });
  } catch {
    return; // moved or removed since the build: nothing to update
  }
  try {
    try {
      report = JSON.parse(readInput(caller, join(outputDir, 'build.json'), 'build report', 64 * 1024 * 1024).toString('utf8')) as { artifacts?: BuildArtifact[] };
    } catch {
      return;
    }
    report.artifacts = (report.artifacts ?? []).map((a) => ({ ...a, sha256: artifacts.find((b) => b.name === a.name)?.sha256 ?? a.sha256 }));
    const data = Buffer.from(`${JSON.stringify(report, null, 2)}\n`);
    const file = dir.create('build.json');
    try {
      for (let at = 0; at < data.length; ) at += writeSync(file.fd, data, at, data.length - at, at);
      fsyncSync(file.fd);
    } catch (err) {
      file.close();
      dir.discard(file.temp);
      throw err;
    }
    file.close();
    dir.commit(file);
  } finally {
    dir.close();
  }
}

export class ImageDigests {
  private queue: Promise<void> = Promise.resolve();
  private readonly pending = new Set<string>();
  private readonly stopping = new AbortController();

  constructor(
    private readonly repo: BuildRepository,
    private readonly logger: Logger,
  ) {}

  /** Queues the image digests a finished build still lacks. */
  start(buildId: string): void {
    if (this.pending.has(buildId) || this.stopping.signal.aborted) return;
    this.pending.add(buildId);
    this.queue = this.queue
      .then(() => this.run(buildId))
      .catch((err: unknown) => this.logger.warn(`cannot record the image digests of build ${buildId}: ${(err as Error).message}`))
      .finally(() => this.pending.delete(buildId));
  }

  /** At daemon start: queues every recorded build whose digests a stop interrupted. */
  async resumeAll(): Promise<void> {
    for (const row of await this.repo.list()) if (row.artifacts.some((a) => a.sha256 === null)) this.start(row.id);
  }

  /** The builds whose digests are still to come, as of now. */
  pendingNow(): ReadonlySet<string> {
    return new Set(this.pending);
  }

  /** Resolves when no digest is queued or running. */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await this.queue;
  }

  /** Stops the running digest (its worker thread) and drops the queue; resumeAll() continues after a restart. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.queue;
  }

  private async run(buildId: string): Promise<void> {
    const row = await this.repo.get(buildId);
    if (!row) return;
    const artifacts = row.artifacts.map((a) => ({ ...a }));
    for (const a of artifacts) {
      if (a.sha256 !== null || this.stopping.signal.aborted) continue;
      try {
        a.sha256 = await imageSha256(a.path, this.stopping.signal, row.owner ?? daemonCaller);
      } catch (err) {
        if (this.stopping.signal.aborted) return;
        // The image was removed or rewritten after the build: the digest stays unknown (null) rather than guessed.
        this.logger.warn(`cannot compute the SHA-256 of ${a.path} (build ${buildId}): ${(err as Error).message}`);
        continue;
      }
      await this.repo.setArtifacts(buildId, artifacts);
    }
    try {
      await updateBuildJson(row.owner ?? daemonCaller, row.outputDir, artifacts);
    } catch (err) {
      this.logger.warn(`cannot record image digests in ${join(row.outputDir, 'build.json')} (build ${buildId}): ${(err as Error).message}`);
    }
  }
}
