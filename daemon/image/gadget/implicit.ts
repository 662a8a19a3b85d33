import type { ParsedStructure, ParsedVolume } from './parse.js';
import { MiB } from './quantity.js';
import type { ModelTraits, PartialProperty } from './types.js';

/**
 * snapd's implicit values (gadget.go setImplicitForVolume): default schema,
 * roles implied by `type: mbr` and by the legacy system-boot label, labels
 * implied by roles, min-size, and offsets derived from the previous structure.
 */

/** A structure between parsing and validation: parsed fields plus its place in gadget.yaml. */
export interface DraftStructure extends ParsedStructure {
  yamlIndex: number;
}

export interface DraftVolume extends Omit<ParsedVolume, 'structures'> {
  structures: DraftStructure[];
}

/** Which generation's label rules apply: unknown when no model is given. */
export type Ruleset = 'unknown' | 'uc16' | 'uc20';

/** Picks the label ruleset from the model, as snapd's whichVolRuleset does. */
export function rulesetFor(model: ModelTraits | undefined): Ruleset {
  if (!model) return 'unknown';
  return model.uc20 ? 'uc20' : 'uc16';
}

/** First offset for a non-mbr structure that does not give one (snapd's NonMBRStartOffset). */
export const nonMbrStartOffset = 1 * MiB;

/** Labels are unique per volume; vfat labels are compared ignoring case, against every label. */
class LabelSet {
  private readonly exact = new Set<string>();
  private readonly vfat = new Set<string>();

  /** Records a label; false when it clashes with one already seen. */
  add(label: string, filesystem: string): boolean {
    const lower = label.toLowerCase();
    if (this.vfat.has(lower)) return false;
    if (linuxFilesystem(filesystem) === 'vfat') {
      for (const known of this.exact) if (known.toLowerCase() === lower) return false;
      this.vfat.add(lower);
      return true;
    }
    if (this.exact.has(label)) return false;
    this.exact.add(label);
    return true;
  }
}

/** Maps vfat-16/vfat-32 to vfat, as the kernel sees them. */
export function linuxFilesystem(filesystem: string): string {
  return filesystem === 'vfat-16' || filesystem === 'vfat-32' ? 'vfat' : filesystem;
}

function impliedLabel(role: string, rs: Ruleset): string {
  if (rs === 'uc16') return role === 'system-data' ? 'writable' : '';
  if (rs !== 'uc20') return '';
  switch (role) {
    case 'system-data':
      return 'ubuntu-data';
    case 'system-seed':
    case 'system-seed-null':
      return 'ubuntu-seed';
    case 'system-boot':
      return 'ubuntu-boot';
    case 'system-save':
      return 'ubuntu-save';
    default:
      return '';
  }
}

function structureWhere(s: DraftStructure): string {
  return `#${s.yamlIndex} ("${s.name}")`;
}

/** Fills snapd's implicit values in; returns an error text (without the volume prefix) or the draft. */
export function applyImplicit(volume: ParsedVolume, rs: Ruleset, partial: readonly PartialProperty[] = []): DraftVolume | string {
  let schema = volume.schema;
  if (partial.includes('schema')) {
    if (schema !== '') {
      return `partial schema is set but schema is still specified as "${schema}"; remove "schema" or "schema" from "partial"`;
    }
  } else if (schema === '') {
    schema = 'gpt';
  }
  const labels = new LabelSet();
  for (const s of volume.structures) {
    if (s.label !== '' && !labels.add(s.label, s.filesystem)) {
      return `filesystem label "${s.label}" is not unique; give each structure its own "filesystem-label"`;
    }
  }

  const structures: DraftStructure[] = [];
  let previousEnd: number | undefined = 0;
  for (const [yamlIndex, parsed] of volume.structures.entries()) {
    const s: DraftStructure = { ...parsed, yamlIndex };
    if (s.minSize === 0) s.minSize = s.size;

    if (s.role === '' && s.type === 'mbr') {
      s.role = 'mbr';
    } else if (rs === 'uc16' && s.role === '' && s.label === 'system-boot') {
      s.role = 'system-boot';
    } else if (s.label === '') {
      const implied = impliedLabel(s.role, rs);
      if (implied !== '') {
        if (!labels.add(implied, s.filesystem)) {
          return `filesystem label "${implied}" is implied by ${s.role} role but was already set elsewhere; rename the structure that uses it`;
        }
        s.label = implied;
      }
    }

    if (s.role === 'system-boot-state' && s.offset === undefined) {
      return `invalid structure ${structureWhere(s)}: invalid role "${s.role}": system-boot-state role requires explicit offset`;
    }

    if (schema === 'emmc') {
      // hardware partitions have no offsets: snapd sets 0 (an explicit one is refused by the emmc rules)
      structures.push(s);
      continue;
    }
    if (s.offset === undefined && previousEnd !== undefined) {
      s.offset = s.role !== 'mbr' && previousEnd < nonMbrStartOffset ? nonMbrStartOffset : previousEnd;
    }
    // the end is known only for a known offset and a fixed size (not a min-size range, not left to an installer)
    const sizeLeftPartial = partial.includes('size') && s.size === 0;
    previousEnd = s.offset !== undefined && s.size === s.minSize && !sizeLeftPartial ? s.offset + s.size : undefined;
    structures.push(s);
  }
  return { ...volume, schema, structures: orderByOffset(structures) };
}

/**
 * Sorts structures by offset the way snapd does: a structure with a known offset
 * starts a run, structures whose offset is unknown stay behind the one before them.
 */
export function orderByOffset(structures: DraftStructure[]): DraftStructure[] {
  const runs: DraftStructure[][] = [];
  for (const s of structures) {
    if (s.offset !== undefined || runs.length === 0) runs.push([s]);
    else runs[runs.length - 1]!.push(s);
  }
  runs.sort((a, b) => (a[0]!.offset ?? 0) - (b[0]!.offset ?? 0));
  return runs.flat();
}
