import type { Caller } from '../../caller/caller.js';
import type { Database } from '../../db/database.js';
import type { BuildArtifact } from './params.js';

/** A build as state.db keeps it: what was asked and, once finished, what it produced. */
export interface BuildRow {
  id: string;
  change: string;
  model: string;
  brand: string;
  outputDir: string;
  /** The caller's -w DIR; '' when the daemon chose the work dir. */
  workDir: string;
  created: string;
  artifacts: BuildArtifact[];
  warnings: string[];
  /** Who asked for the build: its files are read and written with these rights. */
  owner: Caller | null;
  /** The output directory's device and inode: one build at a time writes into a directory. */
  outputKey: string;
}

interface Raw {
  id: string;
  change_id: string;
  model: string;
  brand: string;
  output_dir: string;
  workdir: string;
  created: string;
  artifacts: string;
  warnings: string;
  owner: string | null;
  output_key: string | null;
}

function fromRaw(r: Raw): BuildRow {
  return {
    id: r.id,
    change: r.change_id,
    model: r.model,
    brand: r.brand,
    outputDir: r.output_dir,
    workDir: r.workdir,
    created: r.created,
    artifacts: JSON.parse(r.artifacts) as BuildArtifact[],
    warnings: JSON.parse(r.warnings) as string[],
    owner: r.owner ? (JSON.parse(r.owner) as Caller) : null,
    outputKey: r.output_key ?? '',
  };
}

/** Edge module: the `builds` table of state.db (migration 5). */
export class BuildRepository {
  private creating: Promise<unknown> = Promise.resolve();

  constructor(private readonly db: Database) {}

  /**
   * Runs `fn` after every earlier `exclusive` run has ended: a build checks
   * that its output directory is free and creates its row in one such run,
   * so two requests cannot both find the directory free.
   */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.creating.then(fn, fn);
    this.creating = run.catch(() => {});
    return run;
  }

  async create(row: Omit<BuildRow, 'artifacts' | 'warnings'>): Promise<void> {
    await this.db.run('INSERT INTO builds (id, change_id, model, brand, output_dir, workdir, created, owner, output_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)', [
      row.id,
      row.change,
      row.model,
      row.brand,
      row.outputDir,
      row.workDir,
      row.created,
      row.owner ? JSON.stringify({ pid: row.owner.pid, uid: row.owner.uid, gid: row.owner.gid, groups: row.owner.groups }) : null,
      row.outputKey,
    ]);
  }

  async finish(id: string, artifacts: BuildArtifact[], warnings: string[]): Promise<void> {
    await this.db.run('UPDATE builds SET artifacts = ?, warnings = ? WHERE id = ?', [JSON.stringify(artifacts), JSON.stringify(warnings), id]);
  }

  /** Replaces a finished build's artifacts (their digests, filled in after the build). */
  async setArtifacts(id: string, artifacts: BuildArtifact[]): Promise<void> {
    await this.db.run('UPDATE builds SET artifacts = ? WHERE id = ?', [JSON.stringify(artifacts), id]);
  }

  async get(id: string): Promise<BuildRow | undefined> {
    const r = await this.db.get<Raw>('SELECT * FROM builds WHERE id = ?', [id]);
    return r ? fromRaw(r) : undefined;
  }

  /** The builds not yet ended (their changes in Do or Doing) that write into the directory with this key. */
  async activeInto(outputKey: string): Promise<BuildRow[]> {
    const rows = await this.db.all<Raw>(
      `SELECT builds.* FROM builds JOIN changes ON changes.id = CAST(builds.change_id AS INTEGER)
        WHERE builds.output_key = ? AND changes.status IN ('Do', 'Doing')`,
      [outputKey],
    );
    return rows.map(fromRaw);
  }

  /** The builds not yet ended that one user runs in the same `-w DIR` (they would share its state). */
  async activeInWorkDir(uid: number, workDir: string): Promise<BuildRow[]> {
    const rows = await this.db.all<Raw>(
      `SELECT builds.* FROM builds JOIN changes ON changes.id = CAST(builds.change_id AS INTEGER)
        WHERE builds.workdir = ? AND changes.status IN ('Do', 'Doing')`,
      [workDir],
    );
    return rows.map(fromRaw).filter((r) => r.owner?.uid === uid);
  }

  async list(): Promise<BuildRow[]> {
    return (await this.db.all<Raw>('SELECT * FROM builds ORDER BY CAST(id AS INTEGER)')).map(fromRaw);
  }
}
