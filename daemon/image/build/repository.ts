import type { Database } from '../../db/database.js';
import type { BuildArtifact } from './params.js';

/** A build as state.db keeps it: what was asked and, once finished, what it produced. */
export interface BuildRow {
  id: string;
  change: string;
  model: string;
  brand: string;
  outputDir: string;
  workDir: string;
  created: string;
  artifacts: BuildArtifact[];
  warnings: string[];
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
  };
}

/** Edge module: the `builds` table of state.db (migration 5). */
export class BuildRepository {
  constructor(private readonly db: Database) {}

  async create(row: Omit<BuildRow, 'artifacts' | 'warnings'>): Promise<void> {
    await this.db.run('INSERT INTO builds (id, change_id, model, brand, output_dir, workdir, created) VALUES (?, ?, ?, ?, ?, ?, ?)', [
      row.id,
      row.change,
      row.model,
      row.brand,
      row.outputDir,
      row.workDir,
      row.created,
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

  async list(): Promise<BuildRow[]> {
    return (await this.db.all<Raw>('SELECT * FROM builds ORDER BY CAST(id AS INTEGER)')).map(fromRaw);
  }
}
