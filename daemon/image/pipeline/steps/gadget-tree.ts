import { basename, join } from 'node:path';
import { isCoreforgeError } from '../../../errors.js';
import { imageError } from '../../errors.js';
import { checkGadgetContent, readSnapFile, type ResolvedFile, type ResolvedImage } from '../../gadget/content-check.js';
import { loadGadget, type Gadget } from '../../gadget/index.js';
import { need, type StepContext } from './step.js';

/**
 * The unpacked gadget (and kernel) in the work dir, as the steps after
 * unpack-gadget read it: its gadget.yaml, the content each structure holds,
 * and where that content is staged.
 */

/** Loads and validates the unpacked gadget's meta/gadget.yaml. */
export async function loadGadgetYaml(ctx: StepContext): Promise<Gadget> {
  const m = need(ctx.state.model, 'verified model');
  const gadgetSnap = need(ctx.state.seed, 'snap set').find((s) => s.sourced.info.type === 'gadget')!;
  let text: string;
  try {
    text = (await readSnapFile(ctx.dirs.unpackGadget, 'meta/gadget.yaml', 'gadget')).toString('utf8');
  } catch (err) {
    if (isCoreforgeError(err)) throw err;
    throw imageError(
      'invalid-gadget',
      `cannot read meta/gadget.yaml of gadget snap ${basename(gadgetSnap.sourced.origin ?? gadgetSnap.sourced.path)}: the file is missing; a gadget snap must ship meta/gadget.yaml describing its volumes`,
    );
  }
  return loadGadget(text, { model: { uc20: m.uc20, classic: false } });
}

/** The gadget and its checked content, by "VOLUME/YAML-INDEX" of each structure. */
export async function readGadget(ctx: StepContext): Promise<{ gadget: Gadget; images: Map<string, ResolvedImage[]>; files: Map<string, ResolvedFile[]> }> {
  const gadget = await loadGadgetYaml(ctx);
  const checked = await checkGadgetContent(gadget, { gadgetDir: ctx.dirs.unpackGadget, kernelDir: ctx.dirs.unpackKernel });
  const images = new Map<string, ResolvedImage[]>();
  const files = new Map<string, ResolvedFile[]>();
  for (const c of checked) {
    images.set(`${c.volume}/${c.yamlIndex}`, c.images);
    files.set(`${c.volume}/${c.yamlIndex}`, c.files);
  }
  return { gadget, images, files };
}

/** Where stage-content puts a structure's content and build-volumes takes it from. */
export function stageDir(ctx: StepContext, volume: string, yamlIndex: number): string {
  return join(ctx.dirs.stage, volume, String(yamlIndex));
}
