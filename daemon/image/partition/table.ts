import type { ByteWrite } from '../byte-write.js';
import type { StructureLayout, VolumeLayout } from '../gadget/layout.js';
import { isGuid } from '../gadget/structure-rules.js';
import { encodeGpt } from './gpt.js';
import { seededDiskSignature, seededGuid } from './guid.js';
import { encodeMbr } from './mbr.js';

/**
 * The partition table of a laid-out volume, the way ubuntu-image builds it:
 * one partition per structure that is a partition and is written at build
 * time, numbered in offset order; MBR partitions of role (or label)
 * system-boot are bootable; an unnamed system-data is named "writable" in GPT.
 */

export interface PlannedPartition {
  /** Partition number, from 1. */
  number: number;
  yamlIndex: number;
  /** GPT partition name ('' for MBR). */
  name: string;
  /** Byte offset and size in the volume. */
  offset: number;
  size: number;
  /** MBR type as 2 hex digits, or GPT type GUID. */
  type: string;
  bootable: boolean;
  /** GPT partition GUID ('' for MBR). */
  guid: string;
}

export interface PartitionTable {
  partitions: PlannedPartition[];
  /** MBR disk signature (8 hex digits) or GPT disk GUID. */
  diskId: string;
  /** Write these before the structures' own content, as ubuntu-image does. */
  writes: ByteWrite[];
}

export interface PartitionTableOptions {
  /** Seed for disk and partition GUIDs (and the MBR disk signature): the same seed gives the same bytes. */
  seed: string;
}

function isSystemBoot(s: StructureLayout): boolean {
  return s.role === 'system-boot' || s.label === 'system-boot';
}

/** Plans and encodes the MBR or GPT of a laid-out volume; throws invalid-partition-table when it cannot hold them. */
export function partitionTableFor(volume: VolumeLayout, options: PartitionTableOptions): PartitionTable {
  const sector = volume.sectorSize;
  const diskSectors = volume.size / sector;
  const chosen = volume.structures.filter((s) => s.partition && s.inImage);
  if (volume.schema === 'mbr') {
    const diskSignature = seededDiskSignature(`${options.seed}\0${volume.name}`);
    const partitions = chosen.map((s, i) => ({
      number: i + 1,
      yamlIndex: s.yamlIndex,
      name: '',
      offset: s.offset,
      size: s.size,
      type: s.partitionType,
      bootable: isSystemBoot(s),
      guid: '',
    }));
    const writes = encodeMbr({
      diskSectors,
      diskSignature,
      partitions: partitions.map((p) => ({
        start: p.offset / sector,
        sectors: Math.ceil(p.size / sector),
        type: parseInt(p.type, 16),
        bootable: p.bootable,
      })),
    });
    return { partitions, diskId: diskSignature.toString(16).padStart(8, '0'), writes };
  }
  const diskGuid = isGuid(volume.id) ? volume.id.toUpperCase() : seededGuid(options.seed, `disk\0${volume.name}`);
  const partitions = chosen.map((s, i) => ({
    number: i + 1,
    yamlIndex: s.yamlIndex,
    name: s.name === '' && s.role === 'system-data' ? 'writable' : s.name,
    offset: s.offset,
    size: s.size,
    type: s.partitionType,
    bootable: false,
    guid: s.id !== '' ? s.id : seededGuid(options.seed, `partition\0${volume.name}\0${s.yamlIndex}`),
  }));
  const writes = encodeGpt({
    sectorSize: sector,
    diskSectors,
    diskGuid,
    partitions: partitions.map((p) => ({
      start: p.offset / sector,
      sectors: Math.ceil(p.size / sector),
      typeGuid: p.type,
      partitionGuid: p.guid,
      name: p.name,
    })),
  });
  return { partitions, diskId: diskGuid, writes };
}
