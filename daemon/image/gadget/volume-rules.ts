import { checkEmmcStructure } from './emmc-rules.js';
import type { DraftStructure, DraftVolume } from './implicit.js';
import { checkStructure } from './structure-rules.js';
import type { GadgetStructure, GadgetVolume, PartialProperty, VolumeSchema } from './types.js';

/**
 * The rules a volume must follow (snapd gadget.go validateVolume and
 * validateCrossVolumeStructure): its name and schema, each structure, unique
 * structure names, where the mbr sits, offset-write targets and overlaps.
 */

const validVolumeName = /^[a-zA-Z0-9][a-zA-Z0-9-]+$/;

/** Bytes written at an `offset-write` location: a 32-bit little-endian sector number. */
export const sizeLba48Pointer = 4;

/** `#1 ("name")`, or `#1` for an unnamed structure, as snapd names structures in errors. */
export function structureRef(index: number, name: string): string {
  return name !== '' ? `#${index} ("${name}")` : `#${index}`;
}

/** End of the volume counting each structure at its min-size (snapd's Volume.MinSize). */
export function volumeMinSize(structures: readonly { offset: number | undefined; minSize: number }[]): number {
  let end = 0;
  for (const s of structures) end = s.offset !== undefined ? s.offset + s.minSize : end + s.minSize;
  return end;
}

function checkOffsetWrite(s: GadgetStructure, first: GadgetStructure, volSize: number): string | undefined {
  const ow = s.offsetWrite;
  if (!ow) return undefined;
  if (ow.relativeTo !== '') {
    if (ow.relativeTo !== first.name) {
      return `structure "${s.name}" refers to an unexpected structure "${ow.relativeTo}"; offset-write can only be relative to the first structure, "${first.name}"`;
    }
    if (first.offset !== 0) {
      return `structure "${s.name}" refers to structure "${ow.relativeTo}", which does not have 0 offset; make "${ow.relativeTo}" start at offset 0`;
    }
    if (ow.offset + sizeLba48Pointer > first.minSize) {
      return `structure "${s.name}" wants to write offset of ${sizeLba48Pointer} bytes to ${ow.offset}, outside of referred structure "${ow.relativeTo}"; use an offset-write inside it`;
    }
  } else if (ow.offset + sizeLba48Pointer > volSize) {
    return `structure "${s.name}" wants to write offset of ${sizeLba48Pointer} bytes to ${ow.offset}, outside of volume of min size ${volSize}; use an offset-write inside the volume`;
  }
  return undefined;
}

function checkCross(structures: GadgetStructure[]): string | undefined {
  const volSize = volumeMinSize(structures);
  let previousEnd = 0;
  for (const [i, s] of structures.entries()) {
    if (s.role === 'mbr' && s.offset !== 0) {
      return `structure "${s.name}" has "mbr" role and must start at offset 0; make it the first structure, without "offset"`;
    }
    const owProblem = checkOffsetWrite(s, structures[0]!, volSize);
    if (owProblem) return owProblem;
    if (s.offset !== undefined) {
      if (s.offset < previousEnd) {
        const prev = structures[i - 1]!;
        return `structure "${s.name}" overlaps with the preceding structure "${prev.name}"; move its "offset" to ${previousEnd} or later`;
      }
      previousEnd = s.offset + s.size;
    } else {
      previousEnd += s.size;
    }
  }
  return undefined;
}

const schemas: readonly VolumeSchema[] = ['mbr', 'gpt', 'emmc'];

/** Checks a volume with implicit values applied and its checked `partial:` list; returns the problem text (without the volume prefix) or the typed volume. */
export function checkVolume(draft: DraftVolume, partial: readonly PartialProperty[] = []): GadgetVolume | string {
  if (!validVolumeName.test(draft.name)) {
    return 'invalid name; use letters, digits and dashes, starting with a letter or digit (2 characters or more)';
  }
  const partialSchema = partial.includes('schema');
  if (!partialSchema && !(schemas as readonly string[]).includes(draft.schema)) {
    return `invalid schema "${draft.schema}"; use "mbr", "gpt" or, for eMMC boot partitions, "emmc"`;
  }
  const schema = draft.schema as VolumeSchema | '';
  const names = new Set<string>();
  const structures: GadgetStructure[] = [];
  for (const s of draft.structures as DraftStructure[]) {
    const checked = schema === 'emmc' ? checkEmmcStructure(s) : checkStructure(s, schema, partial);
    if (typeof checked === 'string') return `invalid structure ${structureRef(s.yamlIndex, s.name)}: ${checked}`;
    if (s.name !== '') {
      if (names.has(s.name)) return `structure name "${s.name}" is not unique; give each structure its own name`;
      names.add(s.name);
    }
    structures.push(checked);
  }
  // hardware partitions do not share an address space: nothing to overlap
  const crossProblem = schema === 'emmc' ? undefined : checkCross(structures);
  if (crossProblem) return crossProblem;
  return {
    name: draft.name,
    schema,
    partial: [...partial],
    bootloader: draft.bootloader as GadgetVolume['bootloader'],
    id: draft.id,
    structures,
  };
}
