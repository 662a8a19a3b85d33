/** The gadget library's public surface: load and validate gadget.yaml, lay volumes out, check content on disk. */
export { loadGadget, implicitSystemDataType, type LoadGadgetOptions } from './load.js';
export {
  layoutGadget,
  layoutVolume,
  partitionTypeFor,
  gptPrimarySectors,
  gptBackupSectors,
  type LayoutOptions,
  type SectorSize,
  type StructureLayout,
  type VolumeLayout,
} from './layout.js';
export { offsetWrites } from './offset-write.js';
export { reportGadgetYaml, describeGadget, type GadgetYamlReport, type ReportedVolume, type ReportedStructure } from './report.js';
export { placeImages, type PlacedImage, type RawStructure } from './raw-content.js';
export { parseKernelRef, isKernelRef, type KernelRef } from './kernel-ref.js';
export { parseSize, parseOffset, parseRelativeOffset, type RelativeOffset } from './quantity.js';
export type * from './types.js';
