/**
 * coreforged with test-only task kinds and a test-only route to start them.
 * Production coreforged (daemon/main.ts) has neither; this file is never built.
 */
import { ApiError } from '../../daemon/api/errors.js';
import { asyncResponse } from '../../daemon/api/response.js';
import type { Route } from '../../daemon/api/routes.js';
import type { TaskKind } from '../../daemon/changes/engine.js';
import { CoreforgeError } from '../../daemon/errors.js';
import { runDaemonMain } from '../../daemon/run.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Counts to `total` bytes over `ms` milliseconds in `steps`; stops at the next step when aborted unless told to ignore it. */
const testSleep: TaskKind = {
  name: 'test-sleep',
  concurrency: 2,
  async run(ctx) {
    const ms = Number(ctx.data.ms ?? 1000);
    const steps = Number(ctx.data.steps ?? 50);
    const total = Number(ctx.data.total ?? 1_000_000);
    ctx.log('info', `sleeping ${ms} ms`);
    for (let i = 1; i <= steps; i++) {
      if (ctx.signal.aborted && !ctx.data.ignoreAbort) throw new Error('aborted');
      await sleep(ms / steps);
      ctx.progress(String(ctx.data.phase ?? 'sleeping'), Math.round((total * i) / steps), total);
    }
    return { slept: ms };
  },
};

const testFail: TaskKind = {
  name: 'test-fail',
  async run(ctx) {
    throw new CoreforgeError('bad-request', String(ctx.data.message ?? 'cannot continue: the test task fails on purpose'));
  },
};

const testRoutes: Route[] = [
  {
    path: '/v1/test/changes',
    POST: async (req, ctx) => {
      const tasks = req.body.tasks;
      if (!Array.isArray(tasks)) throw new ApiError('bad-request', 'tasks must be a list');
      const id = await ctx.engine.create({
        owner: req.caller,
        kind: 'test',
        summary: String(req.body.summary ?? 'test change'),
        tasks: tasks.map((t: { kind: string; data?: Record<string, unknown> }) => ({ kind: t.kind, summary: `${t.kind} task`, data: t.data ?? {} })),
      });
      return asyncResponse(id);
    },
  },
];

process.exitCode = await runDaemonMain(process.argv.slice(2), process.env, { taskKinds: [testSleep, testFail], routes: testRoutes });
process.exit();
