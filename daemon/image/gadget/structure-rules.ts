import type { DraftStructure } from './implicit.js';
import { isKernelRef, parseKernelRef } from './kernel-ref.js';
import { checkSnapPath, checkTargetPath } from './paths.js';
import type { ParsedContent } from './parse.js';
import { iecString } from './quantity.js';
import type { Filesystem, GadgetStructure, PartialProperty, Role, Schema, StructureContent } from './types.js';

/**
 * The rules one structure must follow on its own (snapd gadget.go
 * validateVolumeStructure and friends). Each check returns the problem text,
 * snapd's wording first and the fix after a semicolon, or undefined.
 */

/** Largest structure of role mbr: the boot code area in front of the MBR partition table. */
export const sizeMbr = 446;

/** Partition type GUID of the U-Boot environment partition, required for role system-boot-state. */
export const systemBootStateGuid = '3DE21764-95BD-54BD-A5C3-4ABE786F38A8';

const validTypeId = /^[0-9A-F]{2}$/;
const validGuid = /^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/i;

const filesystems: readonly Filesystem[] = ['none', 'vfat', 'vfat-16', 'vfat-32', 'ext4'];

const roles: readonly Role[] = [
  'mbr',
  'system-boot',
  'system-data',
  'system-seed',
  'system-seed-null',
  'system-save',
  'system-boot-state',
  'system-boot-image',
  'system-boot-select',
  'system-seed-image',
  'system-seed-select',
  'bootimg',
  'bootselect',
];

/** True when a string has the 8-4-4-4-12 hex GUID shape (any case). */
export function isGuid(text: string): boolean {
  return validGuid.test(text);
}

/** True when the structure is formatted with a filesystem (as opposed to raw or bare). */
export function hasFilesystem(s: { filesystem: string }): boolean {
  return s.filesystem !== '' && s.filesystem !== 'none';
}

/**
 * True when the structure will carry a filesystem (snapd HasFilesystem): one is named, or,
 * in a volume that leaves filesystems to an installer, it is a partition without one.
 */
export function expectsFilesystem(s: { filesystem: string; type: string }, partial: readonly PartialProperty[]): boolean {
  if (hasFilesystem(s)) return true;
  if (s.type === 'bare' || s.type === 'mbr') return false;
  return partial.includes('filesystem');
}

function checkType(type: string, schema: Schema | '', partialSchema: boolean): string | undefined {
  const bad = (why: string) => `invalid type "${type}": ${why}`;
  const forms = 'use 2 upper-case hex digits (MBR), a GUID (GPT), "XX,GUID" (both), "bare" or "mbr"';
  if (type === '') return `invalid type "": type is not specified; set "type": ${forms}`;
  if (type === 'bare' || type === 'mbr') return undefined;
  const comma = type.indexOf(',');
  let isGpt = false;
  let isMbr = false;
  if (comma === -1) {
    if (validTypeId.test(type)) isMbr = true;
    else if (validGuid.test(type)) isGpt = true;
    else return bad(`invalid format; ${forms}`);
  } else {
    const code = type.slice(0, comma);
    const guid = type.slice(comma + 1);
    if (code.length !== 2 || guid.length !== 36 || !validTypeId.test(code) || !validGuid.test(guid)) {
      return bad('invalid format of hybrid type; write it as 2 upper-case hex digits, a comma and a GUID, e.g. "EF,C12A7328-F81F-11D2-BA4B-00A0C93EC93B"');
    }
  }
  if (partialSchema) {
    if (isGpt || isMbr) {
      return bad('both MBR type and GUID structure type needs to be defined on partial schemas; write it as "XX,GUID", which fits either table');
    }
    return undefined;
  }
  if (schema !== 'gpt' && isGpt) {
    return bad(`GUID structure type with non-GPT schema "${schema}"; use a hybrid "XX,GUID" type or schema gpt`);
  }
  if (schema !== 'mbr' && isMbr) {
    return bad(`MBR structure type with non-MBR schema "${schema}"; use a hybrid "XX,GUID" type or schema mbr`);
  }
  return undefined;
}

function checkRole(s: DraftStructure): string | undefined {
  const what = s.role !== '' ? `role "${s.role}"` : `implicit role "${s.type}"`;
  const bad = (why: string) => `invalid ${what}: ${why}`;
  if (s.type === 'bare' && s.role !== '' && s.role !== 'mbr') {
    return bad('conflicting type: "bare"; drop the role or give the structure a partition type');
  }
  let role = s.role;
  if (s.type === 'mbr') {
    if (role !== '' && role !== 'mbr') return bad('conflicting legacy type: "mbr"; use role mbr with type mbr');
    role = 'mbr';
  }
  if (role === '') return undefined;
  if (!(roles as readonly string[]).includes(role)) return bad(`unsupported role; use one of ${roles.join(', ')}`);
  if (role === 'mbr') {
    if (s.size > sizeMbr) return bad(`mbr structures cannot be larger than ${sizeMbr} bytes; shrink "size"`);
    if (s.offset !== undefined && s.offset !== 0) return bad('mbr structure must start at offset 0; make it the first structure, without "offset"');
    if (s.id !== '') return bad('mbr structure must not specify partition ID; remove "id"');
    if (hasFilesystem(s)) return bad('mbr structures must not specify a file system; remove "filesystem"');
  }
  if (role === 'system-boot-state') {
    if (s.minSize !== s.size) return bad('system-boot-state role does not support min-size; remove "min-size"');
    if (s.size < 1024 * 1024) return bad(`system-boot-state partition must be at least 1 MiB, got ${iecString(s.size)}; raise "size"`);
    if (hasFilesystem(s)) return bad('system-boot-state role must have no filesystem; remove "filesystem"');
    if (s.type.toUpperCase() !== systemBootStateGuid) {
      return bad(`system-boot-state role requires type ${systemBootStateGuid}, got ${s.type}`);
    }
  }
  return undefined;
}

function checkFileContent(c: ParsedContent): string | undefined {
  if (c.image !== '' || c.offset !== undefined || c.size !== 0) {
    return 'cannot use image content for non-bare file system; use "source" and "target" entries';
  }
  if (c.source === '') return 'missing source; set "source" to a path in the gadget snap';
  if (c.target === '') return 'missing target; set "target" to a path in the filesystem';
  if (isKernelRef(c.source)) {
    const ref = parseKernelRef(c.source);
    if (typeof ref === 'string') return `cannot use kernel reference "${c.source}": ${ref}`;
  } else {
    const problem = checkSnapPath('filesystem content source', c.source);
    if (problem) return problem;
  }
  return checkTargetPath(c.target);
}

function checkBareContent(c: ParsedContent): string | undefined {
  if (c.source !== '' || c.target !== '') {
    return 'cannot use non-image content for bare file system; use "image" entries or give the structure a filesystem';
  }
  if (c.image === '') return 'missing image file name; set "image" to a file in the gadget snap';
  return checkSnapPath('content image', c.image);
}

function toContent(c: ParsedContent, fs: boolean): StructureContent {
  if (fs) return { kind: 'file', source: c.source, target: c.target, unpack: c.unpack };
  const out: StructureContent = { kind: 'image', image: c.image };
  if (c.offset !== undefined) out.offset = c.offset;
  if (c.size !== 0) out.size = c.size;
  return out;
}

/** Checks one structure's own rules, relaxed by the volume's `partial:` list; returns the problem text or the typed structure. */
export function checkStructure(s: DraftStructure, schema: Schema | '', partial: readonly PartialProperty[] = []): GadgetStructure | string {
  if (!(partial.includes('size') && s.size === 0)) {
    if (s.size === 0) return 'missing size; set "size" in bytes or with an M or G suffix';
    if (s.minSize > s.size) return `min-size (${s.minSize}) is bigger than size (${s.size}); lower "min-size" or raise "size"`;
  }
  const typeProblem = checkType(s.type, schema, partial.includes('schema'));
  if (typeProblem) return typeProblem;
  const roleProblem = checkRole(s);
  if (roleProblem) return roleProblem;
  if (s.filesystem !== '' && !(filesystems as readonly string[]).includes(s.filesystem)) {
    return `invalid filesystem "${s.filesystem}"; use one of ${filesystems.join(', ')}`;
  }
  if (s.id !== '' && !validGuid.test(s.id)) {
    return `invalid id "${s.id}": partition ID must be a GUID; write it as 8-4-4-4-12 hex digits`;
  }
  const fs = expectsFilesystem(s, partial);
  for (const [i, c] of s.content.entries()) {
    const problem = fs ? checkFileContent(c) : checkBareContent(c);
    if (problem) return `invalid content #${i}: ${problem}`;
  }
  if (!fs && s.update.preserve.length > 0) {
    return 'preserving files during update is not supported for non-filesystem structures; remove "update.preserve"';
  }
  const seen = new Set<string>();
  for (const p of s.update.preserve) {
    if (seen.has(p)) return `duplicate "preserve" entry "${p}"; list each path once`;
    seen.add(p);
  }
  return {
    yamlIndex: s.yamlIndex,
    name: s.name,
    label: s.label,
    type: s.type,
    role: s.role as Role | '',
    id: s.id.toUpperCase(),
    filesystem: s.filesystem as Filesystem | '',
    size: s.size,
    minSize: s.minSize,
    offset: s.offset,
    offsetWrite: s.offsetWrite,
    content: s.content.map((c) => toContent(c, fs)),
    update: s.update,
    implicit: false,
  };
}
