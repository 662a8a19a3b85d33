import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { BmapInput } from '../../bmap.js';
import { hashBmapRanges } from '../../bmap-file.js';
import { imageError } from '../../errors.js';
import type { ResolvedImage } from '../../gadget/content-check.js';
import { layoutGadget, type Gadget, type VolumeLayout } from '../../gadget/index.js';
import { alignUp, iecString, MiB } from '../../gadget/quantity.js';
import { treeBytes } from '../filesystems.js';
import { volumeImageName } from '../params.js';
import { buildVolume, writeError, type VolumeBuild, type VolumeResult } from '../volume.js';
import { startWriteBack } from '../write-back.js';
import { readGadget, stageDir } from './gadget-tree.js';
import { newOutput } from './outputs.js';
import { need, type BuildStep, type StepContext } from './step.js';
import { bmapBlockSize } from './write-bmap.js';

/** Lays the gadget out: UC16/18 system-data sized from the root filesystem tree, requested image sizes honoured or grown with a warning. */
async function layout(ctx: StepContext, gadget: Gadget): Promise<VolumeLayout[]> {
  const m = need(ctx.state.model, 'verified model');
  const systemDataSize = m.uc20 ? undefined : Math.max(32 * MiB, alignUp(Math.ceil((await treeBytes(ctx.dirs.rootfs)) * 1.5) + 8 * MiB, MiB));
  const base = { sectorSize: ctx.params.sectorSize, ...(systemDataSize ? { systemDataSize } : {}) };
  const minimal = layoutGadget(gadget, base);
  const requested = ctx.params.imageSize;
  if (requested === undefined) return minimal;
  const sizes: Record<string, number> = {};
  for (const v of minimal) {
    const want = typeof requested === 'number' ? requested : requested[v.name];
    if (want === undefined) continue;
    if (want < v.size) {
      const warning = `WARNING: image size ${want} (${iecString(want)}) for volume "${v.name}" is smaller than the minimum of ${v.size} bytes (${iecString(v.size)}); the image is grown to that size`;
      if (!ctx.state.warnings.includes(warning)) ctx.state.warnings.push(warning);
      ctx.env.log('warn', warning);
      continue;
    }
    sizes[v.name] = want;
  }
  return layoutGadget(gadget, { ...base, imageSize: sizes });
}

/** The seed for GUIDs and UUIDs: the model and the snaps' digests (an unasserted snap's cheap identity), so equal inputs give equal images. */
function buildSeed(ctx: StepContext): string {
  const digests = need(ctx.state.seed, 'snap set').map((s) => `${s.sourced.info.name}=${s.sourced.sha3_384 || `${s.sourced.info.version}:${s.sourced.identity ?? ''}`}`);
  return createHash('sha256').update(ctx.params.model).update(digests.join(',')).digest('hex');
}

/**
 * Builds a volume into a new output file: written back to disk while its tools
 * fill it, and its bmap ranges hashed as soon as it is complete, while the rest
 * of it is written back, so that write-bmap has only a cheap fsync left.
 */
async function buildImage(ctx: StepContext, name: string, build: Omit<VolumeBuild, 'imagePath' | 'displayPath'>): Promise<VolumeResult & { bmap: BmapInput }> {
  const image = await newOutput(ctx, name);
  const shown = join(ctx.params.outputDir, image.name);
  const writeBack = startWriteBack(image.fd);
  try {
    const result = await buildVolume({ ...build, imagePath: image.path, displayPath: shown });
    ctx.env.progress(`map ${name}`, 0, 0);
    const hashed = hashBmapRanges(image.path, result.written, bmapBlockSize, ctx.env.signal);
    hashed.catch(() => {});
    try {
      await writeBack.finish();
    } catch (err) {
      throw writeError(err, `write image ${shown}`);
    }
    return { ...result, bmap: await hashed };
  } finally {
    await writeBack.stop();
    image.close();
  }
}

/** Writes one image per volume (under a temporary name in the output directory): partition table, filesystems, raw content. */
export const buildVolumes: BuildStep = {
  name: 'build-volumes',
  async run(ctx) {
    const m = need(ctx.state.model, 'verified model');
    const { gadget, images } = await readGadget(ctx);
    const layouts = await layout(ctx, gadget);
    if (ctx.params.imageName !== undefined && layouts.length !== 1) {
      throw imageError(
        'invalid-gadget',
        `cannot name the image ${JSON.stringify(ctx.params.imageName)}: the gadget defines ${layouts.length} volumes (${layouts.map((l) => l.name).join(', ')}), and -o names the image of a single-volume gadget; leave out -o to get VOLUME.img for each volume, in -O DIR`,
      );
    }
    const seed = buildSeed(ctx);
    ctx.state.volumes = [];
    for (const vol of layouts) {
      const trees = new Map<number, string[]>();
      const volImages = new Map<number, ResolvedImage[]>();
      for (const s of vol.structures) {
        volImages.set(s.yamlIndex, images.get(`${vol.name}/${s.yamlIndex}`) ?? []);
        if (s.filesystem === '' || s.filesystem === 'none') continue;
        const staged = s.implicit ? [] : [stageDir(ctx, vol.name, s.yamlIndex)];
        if (s.role === 'system-data' && !m.uc20) trees.set(s.yamlIndex, [ctx.dirs.rootfs]);
        else if (s.role === 'system-seed') trees.set(s.yamlIndex, [ctx.dirs.seed, ...staged]);
        else if (!m.uc20 && (s.role === 'system-boot' || s.label === 'system-boot')) trees.set(s.yamlIndex, [ctx.dirs.boot, ...staged]);
        else trees.set(s.yamlIndex, staged);
      }
      const result = await buildImage(ctx, volumeImageName(ctx.params, vol.name), {
        layout: vol,
        trees,
        images: volImages,
        seed,
        epoch: m.epoch,
        exec: ctx.env.exec,
        signal: ctx.env.signal,
        progress: ctx.env.progress,
      });
      ctx.state.volumes.push({ name: vol.name, size: vol.size, ...result });
    }
  },
};
