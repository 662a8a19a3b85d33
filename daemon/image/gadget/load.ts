import { imageError } from '../errors.js';
import { checkVolumeAssignments } from './assignment-rules.js';
import { checkConnections, checkDefaults } from './config-rules.js';
import { applyImplicit, rulesetFor } from './implicit.js';
import { checkPartial } from './partial-rules.js';
import { parseGadgetYaml } from './parse.js';
import { checkRoles } from './role-rules.js';
import type { Bootloader, Gadget, GadgetStructure, GadgetVolume, ModelTraits } from './types.js';
import { checkVolume } from './volume-rules.js';

export interface LoadGadgetOptions {
  /** The model's generation; without it only the generic (self-consistency) rules apply, as in ubuntu-image. */
  model?: ModelTraits;
  /**
   * Add the `writable` system-data structure at the end of a single-volume gadget
   * that declares none (UC16/18 gadgets such as pc and pi), as ubuntu-image does. Default true.
   */
  implicitSystemData?: boolean;
  /**
   * Accept volumes that leave parts to an installer (`partial:`), as snapd's
   * validation does: `gadget validate` sets it. An image build leaves it unset,
   * and such a gadget is refused after all the other rules passed.
   */
  acceptPartial?: boolean;
}

const bootloaders: readonly Bootloader[] = ['grub', 'u-boot', 'android-boot', 'lk', 'piboot'];

/** Type of the system-data structure ubuntu-image adds when the gadget declares none. */
export const implicitSystemDataType = '83,0FC63DAF-8483-4772-8E79-3D69D8477DE4';

function fail(message: string): never {
  throw imageError('invalid-gadget', message);
}

function checkBootloaders(volumes: readonly GadgetVolume[], model: ModelTraits | undefined): void {
  let found = 0;
  for (const v of volumes) {
    if (v.bootloader === '') continue;
    if (!bootloaders.includes(v.bootloader)) {
      fail(`bootloader must be one of grub, u-boot, android-boot, piboot or lk (volume "${v.name}" has "${v.bootloader}")`);
    }
    if (v.bootloader === 'piboot' && model && !model.uc20) {
      fail(`piboot bootloader valid only for UC20 onwards (volume "${v.name}"); use u-boot for UC16/18 models`);
    }
    found++;
  }
  if (found === 0) fail('bootloader not declared in any volume; set "bootloader" on the volume the device boots from');
  if (found > 1) fail(`too many (${found}) bootloaders declared; set "bootloader" on one volume only`);
}

/** Adds ubuntu-image's implicit `writable` structure after the farthest structure, when it applies. */
function withImplicitSystemData(volumes: GadgetVolume[]): GadgetVolume[] {
  if (volumes.length !== 1) return volumes;
  const volume = volumes[0]!;
  if (volume.partial.length > 0 || volume.schema === 'emmc') return volumes;
  if (volume.structures.some((s) => s.role === 'system-data' || s.offset === undefined)) return volumes;
  const farthest = Math.max(0, ...volume.structures.map((s) => s.offset! + s.size));
  const writable: GadgetStructure = {
    yamlIndex: volume.structures.length,
    name: '',
    label: 'writable',
    type: implicitSystemDataType,
    role: 'system-data',
    id: '',
    filesystem: 'ext4',
    size: 0,
    minSize: 0,
    offset: farthest,
    offsetWrite: undefined,
    content: [],
    update: { edition: 0, preserve: [] },
    implicit: true,
  };
  return [{ ...volume, structures: [...volume.structures, writable] }];
}

/** Gives an unlabelled system-seed its structure name as label, as ubuntu-image does (handleSystemSeed). */
function withSeedLabels(volumes: GadgetVolume[]): GadgetVolume[] {
  return volumes.map((v) => ({
    ...v,
    structures: v.structures.map((s) => (s.role === 'system-seed' && s.label === '' ? { ...s, label: s.name } : s)),
  }));
}

/** The refusal to build an image of a partial gadget: it is valid, but an installer must complete it first. */
function checkBuildable(volumes: readonly GadgetVolume[]): void {
  for (const v of volumes) {
    if (v.partial.length === 0) continue;
    fail(
      `cannot build an image of gadget volume "${v.name}": it leaves ${v.partial.join(', ')} to an installer (partial: [${v.partial.join(', ')}]); ` +
        'such a gadget is valid for installers, but an image needs every volume described in full: give the missing values and drop "partial"',
    );
  }
}

/**
 * Parses and validates meta/gadget.yaml text by snapd's and ubuntu-image's rules,
 * in snapd's order (configuration stanzas, each volume, bootloaders, volume
 * assignments, roles); throws invalid-gadget.
 */
export function loadGadget(text: string, options: LoadGadgetOptions = {}): Gadget {
  const parsed = parseGadgetYaml(text);
  const configProblem = checkDefaults(parsed.defaults) ?? checkConnections(parsed.connections);
  if (configProblem) fail(configProblem);
  if (parsed.volumes.length === 0) {
    if (options.model && !options.model.classic) {
      fail('bootloader not declared in any volume: the gadget.yaml has no volumes; describe the device\'s volumes under "volumes"');
    }
    fail('no volume in the gadget.yaml; specify at least one volume under "volumes"');
  }
  const rs = rulesetFor(options.model);
  const volumes: GadgetVolume[] = [];
  for (const pv of parsed.volumes) {
    if (pv.empty) fail(`volume "${pv.name}" stanza is empty; describe its "structure" list or remove it`);
    const partial = checkPartial(pv.name, pv.partial);
    if (typeof partial === 'string') fail(partial);
    const draft = applyImplicit(pv, rs, partial);
    if (typeof draft === 'string') fail(`invalid volume "${pv.name}": ${draft}`);
    const volume = checkVolume(draft, partial);
    if (typeof volume === 'string') fail(`invalid volume "${pv.name}": ${volume}`);
    volumes.push(volume);
  }
  checkBootloaders(volumes, options.model);
  const volumeAssignments = checkVolumeAssignments(parsed.volumeAssignments, volumes.map((v) => v.name));
  if (typeof volumeAssignments === 'string') fail(volumeAssignments);
  const roleProblem = checkRoles(volumes, options.model);
  if (roleProblem) fail(roleProblem);
  if (!options.acceptPartial) checkBuildable(volumes);
  const labelled = withSeedLabels(volumes);
  return {
    volumes: options.implicitSystemData === false ? labelled : withImplicitSystemData(labelled),
    volumeAssignments,
  };
}
