import { ApiError } from './errors.js';
import { syncResponse } from './response.js';
import type { Route } from './routes.js';
import type { ChangeActionRequest, ChangeSelect } from './types.js';

const selections: ChangeSelect[] = ['all', 'in-progress', 'ready'];

export const changeRoutes: Route[] = [
  {
    path: '/v1/changes',
    GET: async (req, ctx) => {
      const select = (req.query.select ?? 'in-progress') as ChangeSelect;
      if (!selections.includes(select)) {
        throw new ApiError('bad-request', `cannot list changes: select=${JSON.stringify(req.query.select)} is not one of ${selections.join(', ')}`);
      }
      return syncResponse(await ctx.engine.list(select));
    },
  },
  {
    path: '/v1/changes/:id',
    GET: async (req, ctx) => syncResponse(await ctx.engine.get(req.params.id!)),
    POST: async (req, ctx) => {
      const { action } = req.body as Partial<ChangeActionRequest>;
      if (action !== 'abort') {
        throw new ApiError('bad-request', `cannot act on change ${req.params.id}: action ${JSON.stringify(action ?? null)} is not supported; use {"action":"abort"}`);
      }
      return syncResponse(await ctx.engine.abort(req.params.id!));
    },
  },
];
