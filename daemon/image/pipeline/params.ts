import { createHash } from 'node:crypto';

/** Everything a build is asked to do; plain JSON so it can live in a change's data and in build.json. */
export interface BuildParams {
  /** The signed model assertion text. */
  model: string;
  /** Where the model came from, for messages ("pi3.model"). */
  modelSource: string;
  /** Local .snap files. */
  snaps: string[];
  /** Snaps by name from the configured store (`--snap NAME[=CHANNEL]`); channel '' when not given. */
  storeSnaps?: { name: string; channel: string }[];
  /** Pinned store revisions (`--revision NAME:REV`). */
  revisions?: Record<string, number>;
  /** Global channel (`-c`); '' when not given. */
  channel: string;
  /** The output directory, as the caller named it. */
  outputDir: string;
  /** The image's file name, for a single-volume gadget (ubuntu-image's -o); absent: VOLUME.img for each volume. */
  imageName?: string;
  /** The caller's `-w DIR`: the daemon makes its work dir inside it (absent: in the daemon's state dir). */
  workDir?: string;
  /** Image size for every volume, or per volume name. */
  imageSize?: number | Record<string, number>;
  sectorSize: 512 | 4096;
  validation: 'ignore' | 'enforce';
  disableConsoleConf: boolean;
  /** console-conf first-boot config text. */
  firstBoot?: string;
  /** cloud-init user-data text. */
  cloudInit?: string;
}

/** The names of the pipeline's steps, in order (see runner.ts and steps/). */
export const buildStepNames = [
  'prepare',
  'verify-model',
  'read-snaps',
  'resolve-snaps',
  'unpack-gadget',
  'write-seed',
  'stage-content',
  'build-volumes',
  'write-bmap',
  'finish',
] as const;
export type BuildStepName = (typeof buildStepNames)[number];

/** The file name of a volume's image in the output directory: the name asked for (single volume), or VOLUME.img. */
export function volumeImageName(params: Pick<BuildParams, 'imageName'>, volume: string): string {
  return params.imageName ?? `${volume}.img`;
}

/** Output names a build writes besides its images and bmaps. */
export const reportNames: readonly string[] = ['build.json', 'seed.manifest', 'snaps.manifest'];

/** What a build produced in its output directory. */
export interface BuildArtifact {
  name: string;
  path: string;
  size: number;
  /** null for an image until the daemon has hashed it after the build (see image-digests.ts). */
  sha256: string | null;
  /** For an image: the bytes of data in it (what its bmap maps, what a flash writes); its size is mostly holes. */
  data?: number;
}

/** Identifies the inputs of a build: a resumed build must have the same one. */
export function buildFingerprint(p: BuildParams): string {
  const { workDir: _w, ...rest } = p;
  return createHash('sha256').update(JSON.stringify(rest)).digest('hex');
}
