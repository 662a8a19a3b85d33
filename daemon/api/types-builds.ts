/** Request and response shapes of the image build and gadget endpoints (re-exported by types.ts). */
import type { ChangeStatus } from '../changes/types.js';
import type { ReportedStructure } from '../image/gadget/report.js';

/** POST /v1/builds: the build library reads it (daemon/image/pipeline/request.ts). */
export type { BuildRequest } from '../image/pipeline/request.js';

export interface BuildArtifactInfo {
  name: string;
  path: string;
  size: number;
  /**
   * Hex SHA-256. null for a volume image until the daemon has hashed it:
   * that runs after the build is done (see "digests-pending"), so a 3 GiB
   * sparse image is usable without waiting for its zeros to be hashed.
   */
  sha256: string | null;
  /** For a volume image: the bytes of data in it (what its bmap maps, what a flash writes); the rest of its size is holes. */
  data?: number;
}

/** GET /v1/builds and /v1/builds/{id}. */
export interface BuildInfo {
  id: string;
  change: string;
  status: ChangeStatus;
  model: string;
  brand: string;
  'output-dir': string;
  workdir: string;
  'spawn-time': string;
  'ready-time': string | null;
  err?: string;
  artifacts: BuildArtifactInfo[];
  /** Image digests are being computed; their sha256 values are null until then. */
  'digests-pending': boolean;
  warnings: string[];
}

/** POST /v1/gadget/validate: a gadget snap, unpacked gadget dir or gadget.yaml file by absolute path, or the yaml text. */
export interface GadgetValidateRequest {
  path?: string;
  yaml?: string;
  /** Model assertion text (its signature is not checked) to apply that model's rules. */
  model?: string;
  'sector-size'?: 512 | 4096;
}

/** A gadget structure as the API shows it: the library's report, with the wire's names. */
export type GadgetStructureInfo = Omit<ReportedStructure, 'yamlIndex' | 'inImage' | 'implicit'> & { 'in-image': boolean };

export interface GadgetVolumeInfo {
  name: string;
  /** mbr, gpt, emmc, or '' when left partial. */
  schema: string;
  bootloader: string;
  /** What the volume leaves to an installer (`partial:`); such a volume validates but is not built into an image. */
  partial: string[];
  /** Size of the image file; 0 for volumes that get none (partial, emmc). */
  size: number;
  structures: GadgetStructureInfo[];
}

export interface GadgetLayoutResult {
  /** Which rules applied: generic (no model), uc16 (UC16/18) or uc20 (UC20+). */
  rules: 'generic' | 'uc16' | 'uc20';
  /** True when the content was checked against the gadget's files. */
  'content-checked': boolean;
  volumes: GadgetVolumeInfo[];
  /** What a build would refuse or skip in this valid gadget (image rules without a model, partial and emmc volumes). */
  warnings: string[];
}
