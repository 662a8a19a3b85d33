import { LocalSnapSource } from '../local-snaps.js';
import { need, type BuildStep } from './step.js';

/** Reads the metadata (and assertions) of the local snap files prepare took in. */
export const readSnaps: BuildStep = {
  name: 'read-snaps',
  async run(ctx) {
    const source = await LocalSnapSource.inspect(need(ctx.state.inputs, 'snap files'), ctx.env.exec, ctx.env.signal);
    ctx.state.sourced = source.snaps;
  },
};
