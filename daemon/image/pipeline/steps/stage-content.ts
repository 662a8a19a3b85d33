import { stageContent as stage } from '../stage.js';
import { readGadget, stageDir } from './gadget-tree.js';
import { fresh, type BuildStep } from './step.js';

/** Copies each filesystem structure's gadget content into its own staging tree. */
export const stageContent: BuildStep = {
  name: 'stage-content',
  async run(ctx) {
    const { gadget, files } = await readGadget(ctx);
    await fresh(ctx.dirs.stage);
    for (const vol of gadget.volumes) {
      for (const s of vol.structures) {
        const content = files.get(`${vol.name}/${s.yamlIndex}`) ?? [];
        if (s.filesystem === '' || s.filesystem === 'none') continue;
        await stage(content, stageDir(ctx, vol.name, s.yamlIndex), s.filesystem.startsWith('vfat'));
      }
    }
  },
};
