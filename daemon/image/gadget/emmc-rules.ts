import type { DraftStructure } from './implicit.js';
import type { ParsedContent } from './parse.js';
import type { GadgetStructure, GadgetVolume, StructureContent } from './types.js';

/**
 * `schema: emmc` volumes (UC24, snapd gadget.go validateEMMCVolumeStructure and
 * validate.go ruleValidateEMMCVolume): the hardware boot partitions of an eMMC,
 * which act as disks of their own. A structure names one (boot0 or boot1) and
 * lists raw images for it; everything about sizes, places and partitions is the
 * hardware's, so those fields are refused. They get no image file of their own.
 */

/** The hardware partitions an emmc volume can describe. */
export const emmcStructureNames = ['boot0', 'boot1'] as const;

const fix = 'an emmc structure takes only a name and image content';

function checkEmmcContent(c: ParsedContent): string | undefined {
  if (c.offset !== undefined || c.size !== 0) return 'cannot specify size or offset for content; the image is written at the start of the hardware partition';
  if (c.source !== '' || c.target !== '') return 'cannot use non-image content for hardware partitions; use "image" entries';
  if (c.image === '') return 'missing image file name; set "image" to a file in the gadget snap';
  return undefined;
}

/** Checks one structure of an emmc volume; returns the problem text or the typed structure (offset 0, no size). */
export function checkEmmcStructure(s: DraftStructure): GadgetStructure | string {
  const refused = (field: string) => `"${field}" not allowed for emmc volume structures; remove it: ${fix}`;
  if (s.size !== 0) return refused('size');
  if (s.minSize !== 0) return refused('min-size');
  if (s.label !== '') return refused('filesystem-label');
  if (s.offset !== undefined && s.offset !== 0) return refused('offset');
  if (s.offsetWrite !== undefined) return refused('offset-write');
  if (s.filesystem !== '') return refused('filesystem');
  if (s.type !== '') return refused('type');
  if (s.id !== '') return refused('id');
  if (s.role !== '') return refused('role');
  for (const [i, c] of s.content.entries()) {
    const problem = checkEmmcContent(c);
    if (problem) return `invalid content #${i}: ${problem}`;
  }
  if (s.update.preserve.length > 0) {
    return 'preserving files during update is not supported for non-filesystem structures; remove "update.preserve"';
  }
  const content: StructureContent[] = s.content.map((c) => ({ kind: 'image', image: c.image }));
  return {
    yamlIndex: s.yamlIndex,
    name: s.name,
    label: '',
    type: '',
    role: '',
    id: '',
    filesystem: '',
    size: 0,
    minSize: 0,
    offset: 0,
    offsetWrite: undefined,
    content,
    update: s.update,
    implicit: false,
  };
}

/** The volume-level emmc rules snapd applies when validating roles (after the volume's own rules); returns the problem text or undefined. */
export function checkEmmcVolume(v: GadgetVolume): string | undefined {
  if (v.bootloader !== '') return 'cannot set "bootloader" for eMMC schemas; set it on the volume the device boots from';
  if (v.id !== '') return 'cannot set "id" for eMMC schemas; remove "id"';
  if (v.partial.length > 0) return 'cannot set "partial" content for eMMC schemas; remove "partial"';
  return undefined;
}

/** Checks an emmc structure's name; returns the problem text or undefined. */
export function checkEmmcName(name: string): string | undefined {
  if ((emmcStructureNames as readonly string[]).includes(name)) return undefined;
  return `cannot use "${name}" as emmc name, only ["boot0" "boot1"] is allowed; name the structure after the hardware partition it fills`;
}
