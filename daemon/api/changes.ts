import { mayUseChange, type Caller } from '../caller/caller.js';
import { CoreforgeError } from '../errors.js';
import type { DaemonContext } from './context.js';
import { ApiError } from './errors.js';
import { syncResponse } from './response.js';
import type { Route } from './routes.js';
import type { ChangeActionRequest, ChangeInfo, ChangeSelect } from './types.js';

const selections: ChangeSelect[] = ['all', 'in-progress', 'ready'];

/** A change the caller may see: its own, or any for root. */
export async function changeFor(ctx: DaemonContext, caller: Caller, id: string): Promise<ChangeInfo> {
  const change = await ctx.engine.get(id);
  if (!mayUseChange(caller, change.owner)) {
    throw new CoreforgeError('not-owner', `cannot use change ${id}: it was started by uid ${change.owner ?? 0}, not by you (uid ${caller.uid}); only its owner and root may see or abort it`);
  }
  return change;
}

export const changeRoutes: Route[] = [
  {
    path: '/v1/changes',
    GET: async (req, ctx) => {
      const select = (req.query.select ?? 'in-progress') as ChangeSelect;
      if (!selections.includes(select)) {
        throw new ApiError('bad-request', `cannot list changes: select=${JSON.stringify(req.query.select)} is not one of ${selections.join(', ')}`);
      }
      return syncResponse((await ctx.engine.list(select)).filter((c) => mayUseChange(req.caller, c.owner)));
    },
  },
  {
    path: '/v1/changes/:id',
    GET: async (req, ctx) => syncResponse(await changeFor(ctx, req.caller, req.params.id!)),
    POST: async (req, ctx) => {
      const { action } = req.body as Partial<ChangeActionRequest>;
      if (action !== 'abort') {
        throw new ApiError('bad-request', `cannot act on change ${req.params.id}: action ${JSON.stringify(action ?? null)} is not supported; use {"action":"abort"}`);
      }
      await changeFor(ctx, req.caller, req.params.id!);
      return syncResponse(await ctx.engine.abort(req.params.id!));
    },
  },
];
