import { layoutVolume, type SectorSize, type StructureLayout } from './layout.js';
import { loadGadget } from './load.js';
import type { Gadget, GadgetVolume, ModelTraits } from './types.js';

/**
 * What `coreforge gadget validate` reports for a gadget.yaml: snapd's and
 * ubuntu-image's rules (those of the model's generation when a model is
 * given), then the layout a build makes. Only the gadget's own rules refuse
 * it: the rules an image adds (partition table room, sector alignment) are
 * warnings naming what a build would refuse, as snapd's validation only warns
 * about a GPT overlap and accepts `offset: 12345`. Partial and emmc volumes
 * are valid and described, with a warning that no image is made of them.
 */

export interface ReportedStructure {
  yamlIndex: number;
  name: string;
  role: string;
  type: string;
  filesystem: string;
  label: string;
  /** null when it cannot be known before install (after a partial size). */
  offset: number | null;
  /** 0 for the implicit system-data (sized at build time) and where the size is the installer's or the hardware's. */
  size: number;
  inImage: boolean;
  /** The system-data structure ubuntu-image adds to UC16/18 gadgets that declare none. */
  implicit: boolean;
}

export interface ReportedVolume {
  name: string;
  schema: string;
  bootloader: string;
  partial: string[];
  /** Size of the image file; 0 for volumes that get none (partial, emmc). */
  size: number;
  structures: ReportedStructure[];
}

export interface GadgetYamlReport {
  rules: 'generic' | 'uc16' | 'uc20';
  volumes: ReportedVolume[];
  /** What a build would refuse or skip, for a gadget that is valid. */
  warnings: string[];
}

export interface ReportOptions {
  model?: ModelTraits;
  sectorSize?: SectorSize;
}

type StructureFacts = Pick<ReportedStructure, 'yamlIndex' | 'name' | 'role' | 'type' | 'filesystem' | 'label' | 'implicit'>;

/** A structure as reported; `where` is what a layout knows of it (or does not, for volumes an image is never made of). */
function reported(s: StructureFacts, where: Pick<ReportedStructure, 'offset' | 'size' | 'inImage'>): ReportedStructure {
  return { yamlIndex: s.yamlIndex, name: s.name, role: s.role, type: s.type, filesystem: s.filesystem, label: s.label, ...where, implicit: s.implicit };
}

function unlaidStructures(v: GadgetVolume): ReportedStructure[] {
  return v.structures.map((s) => reported(s, { offset: s.offset ?? null, size: s.size, inImage: false }));
}

function laidStructures(structures: StructureLayout[]): ReportedStructure[] {
  return structures.map((s) => reported(s, { offset: s.offset, size: s.implicit ? 0 : s.size, inImage: s.inImage }));
}

/** Describes a validated gadget volume by volume, the image rules it breaks as warnings. */
export function describeGadget(gadget: Gadget, options: ReportOptions = {}): Omit<GadgetYamlReport, 'rules'> {
  const sectorSize = options.sectorSize ?? 512;
  const seeded = gadget.volumes.some((v) => v.structures.some((s) => s.role === 'system-seed'));
  const warnings: string[] = [];
  const volumes = gadget.volumes.map((v): ReportedVolume => {
    const head = { name: v.name, schema: v.schema, bootloader: v.bootloader, partial: [...v.partial] };
    if (v.partial.length > 0) {
      warnings.push(`volume "${v.name}" leaves ${v.partial.join(', ')} to an installer (partial): it is valid, but no image can be built from it`);
      return { ...head, size: 0, structures: unlaidStructures(v) };
    }
    if (v.schema === 'emmc') {
      warnings.push(`volume "${v.name}" describes eMMC hardware partitions (schema emmc): its images are written on the device, a build makes no image file of it`);
      return { ...head, size: 0, structures: unlaidStructures(v) };
    }
    const layout = layoutVolume(v, { sectorSize, seeded, imageRules: 'report' });
    for (const p of layout.problems) warnings.push(`WARNING: an image build would refuse this: ${p}`);
    return { ...head, size: layout.size, structures: laidStructures(layout.structures) };
  });
  return { volumes, warnings };
}

/** Loads gadget.yaml text by the rules of the model's generation (generic without one) and describes it; the core of `gadget validate`. */
export function reportGadgetYaml(text: string, options: ReportOptions = {}): { gadget: Gadget; report: GadgetYamlReport } {
  const gadget = loadGadget(text, { ...(options.model ? { model: options.model } : {}), acceptPartial: true });
  const rules = options.model === undefined ? 'generic' : options.model.uc20 ? 'uc20' : 'uc16';
  return { gadget, report: { rules, ...describeGadget(gadget, options) } };
}
