import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseBmap } from '../../flash/bmap.js';
import type { Logger } from '../../log.js';
import { digestInWorker } from '../digest-worker.js';
import { writeOutput } from './output-file.js';
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

/** SHA-256 of an image whose data lies only in the ranges its bmap maps (the rest is hashed as zeros, never read). */
export async function imageSha256(imagePath: string, signal?: AbortSignal): Promise<string> {
  const bmap = parseBmap(await readFile(`${imagePath}.bmap`, 'utf8'), `${imagePath}.bmap`);
  const size = (await stat(imagePath)).size;
  if (size !== bmap.imageSize) throw new Error(`image ${imagePath} is ${size} bytes but its bmap says ${bmap.imageSize}; it changed after the build`);
  const data = bmap.ranges.map((r) => ({ offset: r.start, length: r.end - r.start }));
  return (await digestInWorker({ path: imagePath, algorithm: 'sha256', data, size, background: true }, signal)).digest.toString('hex');
}

/** Fills in the artifacts' digests in a build.json. */
async function updateBuildJson(outputDir: string, artifacts: BuildArtifact[]): Promise<void> {
  const path = join(outputDir, 'build.json');
  let report: { artifacts?: BuildArtifact[] };
  try {
    report = JSON.parse(await readFile(path, 'utf8')) as { artifacts?: BuildArtifact[] };
  } catch {
    return; // moved or removed since the build: nothing to update
  }
  report.artifacts = (report.artifacts ?? []).map((a) => ({ ...a, sha256: artifacts.find((b) => b.name === a.name)?.sha256 ?? a.sha256 }));
  await writeOutput(path, `${JSON.stringify(report, null, 2)}\n`);
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

  /** Whether a build's digests are still to come. */
  isPending(buildId: string): boolean {
    return this.pending.has(buildId);
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
        a.sha256 = await imageSha256(a.path, this.stopping.signal);
      } catch (err) {
        if (this.stopping.signal.aborted) return;
        // The image was removed or rewritten after the build: the digest stays unknown (null) rather than guessed.
        this.logger.warn(`cannot compute the SHA-256 of ${a.path} (build ${buildId}): ${(err as Error).message}`);
        continue;
      }
      await this.repo.setArtifacts(buildId, artifacts);
    }
    try {
      await updateBuildJson(row.outputDir, artifacts);
    } catch (err) {
      this.logger.warn(`cannot record image digests in ${join(row.outputDir, 'build.json')} (build ${buildId}): ${(err as Error).message}`);
    }
  }
}
