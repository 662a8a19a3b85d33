import { imageError } from '../errors.js';
import { applyImplicit, rulesetFor } from './implicit.js';
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

/** Parses and validates meta/gadget.yaml text by snapd's and ubuntu-image's rules; throws invalid-gadget. */
export function loadGadget(text: string, options: LoadGadgetOptions = {}): Gadget {
  const parsed = parseGadgetYaml(text);
  if (parsed.volumes.length === 0) {
    fail('no volume in the gadget.yaml; specify at least one volume under "volumes"');
  }
  const rs = rulesetFor(options.model);
  const volumes: GadgetVolume[] = [];
  for (const pv of parsed.volumes) {
    const draft = applyImplicit(pv, rs);
    if (typeof draft === 'string') fail(`invalid volume "${pv.name}": ${draft}`);
    const volume = checkVolume(draft);
    if (typeof volume === 'string') fail(`invalid volume "${pv.name}": ${volume}`);
    volumes.push(volume);
  }
  checkBootloaders(volumes, options.model);
  const roleProblem = checkRoles(volumes, options.model);
  if (roleProblem) fail(roleProblem);
  const labelled = withSeedLabels(volumes);
  return { volumes: options.implicitSystemData === false ? labelled : withImplicitSystemData(labelled) };
}
