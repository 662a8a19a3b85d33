import { imageError } from '../../errors.js';
import { verifyModel } from '../model.js';
import type { BuildStep } from './step.js';

/** Checks the model's signature chain and what its grade allows; saves what later steps need of it. */
export const verifyModelStep: BuildStep = {
  name: 'verify-model',
  async run(ctx) {
    const v = await verifyModel(ctx.params.model, ctx.params.modelSource, ctx.env.lookups);
    const enforced = v.info.validationSets.filter((s) => s.mode === 'enforce');
    if (enforced.length > 0 && ctx.params.validation === 'ignore') {
      throw imageError('invalid-snap-set', `model requires validation-set "${enforced[0]!.name}" to be enforced, but validation is set to ignore`);
    }
    ctx.state.model = {
      name: v.info.model,
      brand: v.info.brandId,
      grade: v.info.grade,
      uc20: v.info.grade !== 'unset',
      architecture: v.info.architecture,
      base: v.info.base,
      prerequisites: v.prerequisites.map((a) => `${Buffer.from(a.content).toString('utf8')}\n\n${a.signature}\n`),
      epoch: Math.floor(v.info.timestamp.getTime() / 1000),
    };
    if (ctx.state.model.uc20) {
      // snapd's Customizations.validate (image_linux.go), word for word: UC20+ images have no
      // system-data to carry these. (--first-boot is coreforge's own and goes to ubuntu-seed.)
      const unsupported = [
        ...(ctx.params.disableConsoleConf ? [['console-conf disable', '--disable-console-conf']] : []),
        ...(ctx.params.cloudInit !== undefined ? [['cloud-init user-data', '--cloud-init']] : []),
      ];
      if (unsupported.length > 0) {
        throw imageError(
          'invalid-snap-set',
          `cannot support with UC20+ model requested customizations: ${unsupported.map(([what]) => what).join(', ')}; ` +
            `snapd does not support ${unsupported.map(([, flag]) => flag).join(' or ')} for UC20+ images (model "${v.info.model}" has grade ${v.info.grade}): ` +
            `leave ${unsupported.length === 1 ? 'it' : 'them'} out` +
            (ctx.params.cloudInit !== undefined ? ' (for cloud-init on UC20+, ship its config as cloud.conf in the gadget snap)' : ''),
        );
      }
    }
  },
};
