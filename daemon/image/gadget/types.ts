import type { RelativeOffset } from './quantity.js';

/** Partitioning schemes a volume can use in an image. */
export type Schema = 'mbr' | 'gpt';

/**
 * What a volume's `schema` may say: a partition table, or `emmc` for the
 * hardware boot partitions of an eMMC (UC24), which get no image of their own.
 */
export type VolumeSchema = Schema | 'emmc';

/** Parts of a volume a gadget may leave for an installer to fill in (snapd PartialProperty). */
export type PartialProperty = 'size' | 'filesystem' | 'schema' | 'structure';

/** Bootloaders snapd knows; exactly one volume of a gadget names one. */
export type Bootloader = 'grub' | 'u-boot' | 'android-boot' | 'lk' | 'piboot';

/** Filesystems a structure can carry; 'vfat' means 'vfat-32'. */
export type Filesystem = 'none' | 'vfat' | 'vfat-16' | 'vfat-32' | 'ext4';

/** Structure roles snapd accepts (gadget.go validateRole), including the legacy names. */
export type Role =
  | 'mbr'
  | 'system-boot'
  | 'system-data'
  | 'system-seed'
  | 'system-seed-null'
  | 'system-save'
  | 'system-boot-state'
  | 'system-boot-image'
  | 'system-boot-select'
  | 'system-seed-image'
  | 'system-seed-select'
  | 'bootimg'
  | 'bootselect';

/** A file or directory copied into a filesystem structure. */
export interface FileContent {
  kind: 'file';
  /** Path in the gadget snap, or a `$kernel:ASSET/PATH` reference; a trailing `/` means "the directory's contents". */
  source: string;
  /** Path inside the structure's filesystem. */
  target: string;
  unpack: boolean;
}

/** A raw image written into a structure without a filesystem. */
export interface ImageContent {
  kind: 'image';
  /** Path in the gadget snap. */
  image: string;
  /** Offset inside the structure; after the previous image when absent. */
  offset?: number;
  /** Room reserved for the image; the image file's own size when absent. */
  size?: number;
}

export type StructureContent = FileContent | ImageContent;

/** One structure of a volume, with snapd's implicit values filled in. */
export interface GadgetStructure {
  /** Position in the volume's `structure` list in gadget.yaml (0-based); the implicit system-data gets the next index. */
  yamlIndex: number;
  /** '' when the gadget gives no name. */
  name: string;
  /** `filesystem-label`, or the label implied by the role; '' when none. */
  label: string;
  /** As written: 2 hex digits, a GUID, `XX,GUID`, `bare` or `mbr`. */
  type: string;
  /** Explicit role, or the one implied by `type: mbr` (and, for UC16/18, by label system-boot); '' when none. */
  role: Role | '';
  /** GPT partition GUID (upper case); '' when not given. */
  id: string;
  /** '' when not given. */
  filesystem: Filesystem | '';
  /** 0 when left to an installer (`partial: [size]`) and in an emmc volume. */
  size: number;
  minSize: number;
  /**
   * Explicit offset, or the one snapd derives from the previous structure; undefined when
   * it cannot be known (after a min-size or partial-size structure); 0 in an emmc volume.
   */
  offset: number | undefined;
  offsetWrite: RelativeOffset | undefined;
  content: StructureContent[];
  update: { edition: number; preserve: string[] };
  /** True for the system-data structure added for UC16/18 gadgets that do not declare one. */
  implicit: boolean;
}

/** One volume: the disk image it describes. */
export interface GadgetVolume {
  name: string;
  /** '' only when the schema is left partial. */
  schema: VolumeSchema | '';
  /** What the gadget leaves for an installer (`partial:`); such a volume validates but cannot be built into an image. */
  partial: PartialProperty[];
  bootloader: Bootloader | '';
  /** Volume `id` as written ('' when absent); a GUID here becomes the GPT disk GUID. */
  id: string;
  /** Sorted by offset, as snapd orders them. */
  structures: GadgetStructure[];
}

/** One `volume-assignments:` variant (UC24): which device each volume goes to on one kind of device. */
export interface VolumeAssignment {
  name: string;
  assignments: { volume: string; device: string }[];
}

/** A parsed and validated gadget.yaml; volumes keep their order in the file. */
export interface Gadget {
  volumes: GadgetVolume[];
  volumeAssignments: VolumeAssignment[];
}

/** What the gadget rules need to know about the model; leave it out for generic (model-less) checks. */
export interface ModelTraits {
  /** True for UC20 and later (the model has a grade). */
  uc20: boolean;
  classic: boolean;
}
