import { basename } from 'node:path';
import { chooseSeedSnaps } from '../snap-policy.js';
import { need, verified, type BuildStep } from './step.js';

/** Chooses the snap for each entry of the seed (snap-policy.ts) and says where each came from. */
export const resolveSnaps: BuildStep = {
  name: 'resolve-snaps',
  async run(ctx) {
    const v = verified(ctx);
    ctx.state.seed = await chooseSeedSnaps({
      model: v.info,
      inSeed: need(ctx.state.model, 'verified model').prerequisites,
      local: need(ctx.state.sourced, 'snap files'),
      storeSnaps: ctx.params.storeSnaps ?? [],
      channel: ctx.params.channel,
      revisions: ctx.params.revisions ?? {},
      lookups: ctx.env.lookups,
      store: ctx.env.store?.(v.info.architecture),
      ...(ctx.env.signal ? { signal: ctx.env.signal } : {}),
      progress: (phase, bytes, total) => ctx.env.progress(phase, bytes, total),
      log: (level, message) => ctx.env.log(level, message),
      warn: (warning) => {
        if (ctx.state.warnings.includes(warning)) return;
        ctx.state.warnings.push(warning);
        ctx.env.log('warn', warning);
      },
    });
    for (const s of ctx.state.seed) ctx.env.log('info', `${s.sourced.info.name} ${s.sourced.revision} from ${s.sourced.downloaded !== undefined ? 'the store' : basename(s.sourced.path)} (channel ${s.planned.channel || '-'})`);
  },
};
