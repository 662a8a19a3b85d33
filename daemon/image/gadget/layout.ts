import { imageError } from '../errors.js';
import { alignUp, iecString, type RelativeOffset } from './quantity.js';
import type { Bootloader, Filesystem, Gadget, GadgetStructure, GadgetVolume, Role, Schema, StructureContent } from './types.js';

/**
 * Where every structure of every volume lands in the image: absolute offsets,
 * sizes, which structures are partitions and which are written at build time,
 * and the size of each volume's image file.
 */

export type SectorSize = 512 | 4096;

/** GPT partition entry array: 128 entries of 128 bytes. */
export const gptEntriesBytes = 128 * 128;

/** Sectors the GPT needs in front of the first partition (protective MBR, header, entries). */
export function gptPrimarySectors(sectorSize: SectorSize): number {
  return 2 + gptEntriesBytes / sectorSize;
}

/** Sectors the backup GPT needs at the end of the disk (entries, header). */
export function gptBackupSectors(sectorSize: SectorSize): number {
  return 1 + gptEntriesBytes / sectorSize;
}

export interface StructureLayout {
  yamlIndex: number;
  name: string;
  role: Role | '';
  /** As written in gadget.yaml. */
  type: string;
  /** The type this volume's table uses: MBR hex byte for mbr, GUID for gpt; '' when not a partition. */
  partitionType: string;
  filesystem: Filesystem | '';
  label: string;
  /** GPT partition GUID from gadget.yaml ('' when not given). */
  id: string;
  /** Absolute byte offset in the volume. */
  offset: number;
  size: number;
  offsetWrite: RelativeOffset | undefined;
  content: StructureContent[];
  /** True when the structure gets an entry in the partition table (not bare, not the mbr). */
  partition: boolean;
  /**
   * False for structures snapd creates on the device in install mode (UC20+
   * system-boot, system-save and system-data): ubuntu-image leaves them out of the image.
   */
  inImage: boolean;
  /** True for the implicit `writable` system-data of UC16/18 gadgets. */
  implicit: boolean;
}

export interface VolumeLayout {
  name: string;
  schema: Schema;
  bootloader: Bootloader | '';
  id: string;
  sectorSize: SectorSize;
  /** Size of the image file: structures, rounded to the sector, plus the backup GPT for gpt. */
  size: number;
  /** Sorted by offset. */
  structures: StructureLayout[];
  /** The image rules this volume breaks, which a build refuses (always empty with `imageRules: 'enforce'`, which throws). */
  problems: string[];
}

export interface LayoutOptions {
  sectorSize: SectorSize;
  /** Size of the root filesystem: raises the system-data structure to it (required for the implicit one). */
  systemDataSize?: number;
  /** Requested image file size, for all volumes or per volume name; a trailing system-data grows to fill it. */
  imageSize?: number | Record<string, number>;
  /**
   * What to do with the rules only an image imposes (partition table room, sector
   * alignment, sizes known at build time): 'enforce' (default, a build) throws;
   * 'report' lists them in VolumeLayout.problems, for `gadget validate`, which
   * like snapd's validation accepts a gadget with e.g. `offset: 12345`.
   */
  imageRules?: 'enforce' | 'report';
}

function fail(message: string): never {
  throw imageError('invalid-layout', message);
}

function isSeeded(gadget: Gadget): boolean {
  return gadget.volumes.some((v) => v.structures.some((s) => s.role === 'system-seed'));
}

function isInstallTimeStructure(s: GadgetStructure): boolean {
  return s.role === 'system-boot' || s.label === 'system-boot' || s.role === 'system-data' || s.role === 'system-save';
}

/** The type a partition table writes for a structure: the part of a hybrid type that matches the schema. */
export function partitionTypeFor(type: string, schema: Schema): string {
  const comma = type.indexOf(',');
  if (comma === -1) return type.toUpperCase();
  return (schema === 'mbr' ? type.slice(0, comma) : type.slice(comma + 1)).toUpperCase();
}

function structureName(s: { name: string; yamlIndex: number }): string {
  return s.name !== '' ? `"${s.name}"` : `#${s.yamlIndex}`;
}

function placeStructures(volume: GadgetVolume, schema: Schema, seeded: boolean, options: LayoutOptions): StructureLayout[] {
  const out: StructureLayout[] = [];
  let previousEnd = 0;
  for (const s of volume.structures) {
    let size = s.size;
    if (s.role === 'system-data' && options.systemDataSize !== undefined) {
      size = Math.max(size, alignUp(options.systemDataSize, options.sectorSize));
    }
    const offset = s.offset ?? previousEnd;
    previousEnd = offset + size;
    const partition = s.type !== 'bare' && s.role !== 'mbr';
    out.push({
      yamlIndex: s.yamlIndex,
      name: s.name,
      role: s.role,
      type: s.type,
      partitionType: partition ? partitionTypeFor(s.type, schema) : '',
      filesystem: s.filesystem,
      label: s.label,
      id: s.id,
      offset,
      size,
      offsetWrite: s.offsetWrite,
      content: s.content,
      partition,
      inImage: !(seeded && isInstallTimeStructure(s)),
      implicit: s.implicit,
    });
  }
  return out;
}

function placementProblems(volume: GadgetVolume, schema: Schema, structures: StructureLayout[], sectorSize: SectorSize): string[] {
  const problems: string[] = [];
  const tableEnd = schema === 'gpt' ? gptPrimarySectors(sectorSize) * sectorSize : 512;
  const tableName = schema === 'gpt' ? 'GPT header or GPT partition table' : 'MBR partition table';
  let previous: StructureLayout | undefined;
  for (const s of structures) {
    const name = structureName(s);
    if (s.role !== 'mbr' && s.offset < tableEnd) {
      problems.push(`cannot lay out volume "${volume.name}": structure ${name} overlaps ${tableName} (the first ${tableEnd} bytes with ${sectorSize}-byte sectors); move its "offset" to ${tableEnd} or later`);
    }
    if (previous && s.offset < previous.offset + previous.size) {
      problems.push(`cannot lay out volume "${volume.name}": structure ${name} overlaps with the preceding structure ${structureName(previous)}; lower the system-data size or move the structure`);
    }
    if (s.partition && s.offset % sectorSize !== 0) {
      problems.push(`cannot lay out volume "${volume.name}": gadget volume structure ${name} offset ${s.offset} is not a multiple of disk sector size ${sectorSize}; align its "offset"`);
    }
    if (s.partition && s.size % sectorSize !== 0) {
      problems.push(`gadget volume structure ${name} size is not a multiple of disk sector size ${sectorSize}; round its "size" (volume "${volume.name}")`);
    }
    previous = s;
  }
  return problems;
}

function requestedSize(options: LayoutOptions, volume: string): number | undefined {
  if (typeof options.imageSize === 'number') return options.imageSize;
  return options.imageSize?.[volume];
}

/** Grows a trailing, built-at-image-time system-data to end where the backup GPT (or the image) starts. */
function fillWithSystemData(structures: StructureLayout[], end: number, sectorSize: SectorSize): void {
  const last = structures[structures.length - 1];
  if (last && last.role === 'system-data' && last.inImage) {
    last.size = Math.max(last.size, Math.floor((end - last.offset) / sectorSize) * sectorSize);
  }
}

function sizeProblems(volume: GadgetVolume, structures: StructureLayout[], imageRules: 'enforce' | 'report'): string[] {
  const problems: string[] = [];
  for (const s of structures) {
    if (s.size > 0) continue;
    // the implicit system-data is sized at build time from the root filesystem: only a build needs its size
    if (s.implicit && imageRules === 'report') continue;
    const what = s.implicit ? `implicit system-data structure "${s.label}"` : `system-data structure ${structureName(s)}`;
    problems.push(`cannot lay out volume "${volume.name}": ${what} has no size; give the root filesystem size or an image size to fill`);
  }
  return problems;
}

/** The partition table a volume gets in an image; emmc and partial-schema volumes get none. */
function imageSchema(volume: GadgetVolume): Schema {
  if (volume.schema === 'mbr' || volume.schema === 'gpt') return volume.schema;
  return fail(`cannot lay out volume "${volume.name}" as an image: ${volume.schema === 'emmc' ? 'emmc volumes describe hardware partitions and get no image' : 'its schema is left to an installer'}`);
}

/** Lays one volume out; exported for callers that work volume by volume. */
export function layoutVolume(volume: GadgetVolume, options: LayoutOptions & { seeded: boolean }): VolumeLayout {
  const { sectorSize } = options;
  const imageRules = options.imageRules ?? 'enforce';
  const schema = imageSchema(volume);
  const structures = placeStructures(volume, schema, options.seeded, options);
  const end = Math.max(0, ...structures.map((s) => s.offset + s.size));
  const trailer = schema === 'gpt' ? gptBackupSectors(sectorSize) * sectorSize : 0;
  const minimal = alignUp(end, sectorSize) + trailer;
  let size = minimal;
  const requested = requestedSize(options, volume.name);
  if (requested !== undefined) {
    if (requested < minimal) {
      fail(`cannot use image size ${requested} (${iecString(requested)}) for volume "${volume.name}": it needs at least ${minimal} bytes (${iecString(minimal)}); ask for a larger image size or none`);
    }
    size = alignUp(requested, sectorSize);
    fillWithSystemData(structures, size - trailer, sectorSize);
  }
  const problems = [...sizeProblems(volume, structures, imageRules), ...placementProblems(volume, schema, structures, sectorSize)];
  if (imageRules === 'enforce' && problems.length > 0) fail(problems[0]!);
  return {
    name: volume.name,
    schema,
    bootloader: volume.bootloader,
    id: volume.id,
    sectorSize,
    size,
    structures,
    problems,
  };
}

/**
 * Computes offsets, sizes and image sizes for every volume of a validated
 * gadget that becomes an image file: emmc volumes are left out (their
 * content is written to the hardware partitions on the device, as
 * ubuntu-image does); throws invalid-layout.
 */
export function layoutGadget(gadget: Gadget, options: LayoutOptions): VolumeLayout[] {
  if (options.sectorSize !== 512 && options.sectorSize !== 4096) {
    fail(`cannot use sector size ${String(options.sectorSize)}; use 512 or 4096`);
  }
  const seeded = isSeeded(gadget);
  return gadget.volumes.filter((v) => v.schema !== 'emmc').map((v) => layoutVolume(v, { ...options, seeded }));
}
