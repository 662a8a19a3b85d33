import { checkEmmcName, checkEmmcVolume } from './emmc-rules.js';
import { linuxFilesystem } from './implicit.js';
import type { GadgetStructure, GadgetVolume, ModelTraits } from './types.js';
import { structureRef } from './volume-rules.js';

/**
 * Role consistency across volumes, per model generation (snapd gadget
 * validate.go): one structure per role, seed/data/save/boot combinations,
 * reserved labels, and the labels roles imply. Without a model, the rules
 * of the generation the gadget itself points at apply (system-seed means UC20).
 */

const uniqueRoles = [
  'system-seed',
  'system-seed-null',
  'system-boot',
  'system-data',
  'system-save',
  'system-boot-state',
] as const;
type UniqueRole = (typeof uniqueRoles)[number];

interface RoleInstance {
  volume: string;
  structure: GadgetStructure;
}

const defaultLabel: Record<UniqueRole, string> = {
  'system-seed': 'ubuntu-seed',
  'system-seed-null': 'ubuntu-seed',
  'system-boot': 'ubuntu-boot',
  'system-save': 'ubuntu-save',
  'system-data': 'ubuntu-data',
  'system-boot-state': '',
};

const reservedWithModes = ['ubuntu-boot', 'ubuntu-seed', 'ubuntu-data', 'ubuntu-save'];
const reservedWithoutModes = ['ubuntu-seed', 'ubuntu-data'];

function hasLabel(s: GadgetStructure, label: string): boolean {
  return linuxFilesystem(s.filesystem) === 'vfat' ? s.label.toLowerCase() === label.toLowerCase() : s.label === label;
}

type Roles = Partial<Record<UniqueRole, RoleInstance>>;

function checkLabels(roles: Roles, checks: [UniqueRole, string][]): string | undefined {
  for (const [role, label] of checks) {
    const s = roles[role]?.structure;
    if (s && s.label !== '' && !hasLabel(s, label)) {
      return `${role} structure must have an implicit label or "${label}", not "${s.label}"; remove "filesystem-label" or set it to "${label}"`;
    }
  }
  return undefined;
}

function checkCore(roles: Roles, seedExpected: boolean): string | undefined {
  const seed = roles['system-seed'];
  const data = roles['system-data'];
  if (!seed && !data) {
    if (seedExpected) {
      return 'model requires system-seed partition, but no system-seed or system-data partition found; add system-seed, system-boot, system-save and system-data structures';
    }
  } else if (seed && !data) {
    return 'the system-seed role requires system-data to be defined; add a structure with role system-data';
  } else if (!seed && data) {
    if (seedExpected) return 'model requires system-seed structure, but none was found; add a structure with role system-seed';
    const problem = checkLabels(roles, [['system-data', 'writable']]);
    if (problem) return problem;
  } else {
    if (!seedExpected) return 'model does not support the system-seed role; remove it or use a UC20+ model';
    const problem = checkLabels(roles, [
      ['system-data', defaultLabel['system-data']],
      ['system-seed', defaultLabel['system-seed']],
    ]);
    if (problem) return problem;
  }
  if (roles['system-save']) {
    if (!seedExpected) return 'model does not support the system-save role; remove it or use a UC20+ model';
    const problem = checkLabels(roles, [['system-save', defaultLabel['system-save']]]);
    if (problem) return problem;
  }
  if (seedExpected) {
    const seedVolume = roles['system-seed']!.volume;
    for (const other of ['system-boot', 'system-data', 'system-save'] as const) {
      const ri = roles[other];
      if (ri && ri.volume !== seedVolume) {
        return 'system-boot, system-data, and system-save are expected to share the same volume as system-seed; move them into one volume';
      }
    }
  }
  return undefined;
}

function checkClassicWithModes(roles: Roles): string | undefined {
  if (!roles['system-boot'] || !roles['system-data']) {
    return 'system-boot and system-data roles are needed on classic; add structures with those roles';
  }
  const checks: [UniqueRole, string][] = [
    ['system-boot', defaultLabel['system-boot']],
    ['system-data', defaultLabel['system-data']],
  ];
  for (const optional of ['system-seed', 'system-seed-null', 'system-save'] as const) {
    if (roles[optional]) checks.push([optional, defaultLabel[optional]]);
  }
  const problem = checkLabels(roles, checks);
  if (problem) return problem;
  const bootVolume = roles['system-boot'].volume;
  for (const role of ['system-seed', 'system-seed-null', 'system-save'] as const) {
    const ri = roles[role];
    if (ri && ri.volume !== bootVolume) return `system-boot and ${role} are expected to share the same volume; move them into one volume`;
  }
  return undefined;
}

/** Checks role usage across all volumes for the model (or generically); returns the problem text or undefined. */
export function checkRoles(volumes: readonly GadgetVolume[], model: ModelTraits | undefined): string | undefined {
  const roles: Roles = {};
  const across = volumes.length !== 1 ? ' across volumes' : '';
  for (const v of volumes) {
    for (const s of v.structures) {
      if (!(uniqueRoles as readonly string[]).includes(s.role)) continue;
      const role = s.role as UniqueRole;
      if (roles[role]) return `cannot have more than one partition with ${role} role${across}; keep one`;
      roles[role] = { volume: v.name, structure: s };
    }
  }
  if (roles['system-seed'] && roles['system-seed-null']) {
    return `cannot have more than one partition with system-seed/system-seed-null role${across}; keep one`;
  }

  let hasModes: boolean;
  let classicWithModes: boolean;
  if (model) {
    hasModes = model.uc20;
    classicWithModes = model.classic && hasModes;
  } else {
    hasModes = roles['system-seed'] !== undefined || roles['system-seed-null'] !== undefined;
    classicWithModes = roles['system-seed-null'] !== undefined;
  }

  const reserved = hasModes ? reservedWithModes : reservedWithoutModes;
  for (const v of volumes) {
    if (v.schema === 'emmc') {
      const problem = checkEmmcVolume(v);
      if (problem) return `invalid volume "${v.name}": ${problem}`;
    }
    for (const s of v.structures) {
      const where = `invalid volume "${v.name}": invalid structure ${structureRef(s.yamlIndex, s.name)}`;
      if (s.role === '' && s.label !== '') {
        for (const label of reserved) {
          if (hasLabel(s, label)) return `${where}: label "${s.label}" is reserved; use another label or the matching role`;
        }
      }
      if (v.schema === 'emmc') {
        const problem = checkEmmcName(s.name);
        if (problem) return `${where}: ${problem}`;
      }
    }
  }
  return classicWithModes ? checkClassicWithModes(roles) : checkCore(roles, hasModes);
}
