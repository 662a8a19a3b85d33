import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { ChangeEngine, type TaskKind } from '../../../daemon/changes/engine.js';
import { ChangeRepository } from '../../../daemon/changes/repository.js';
import type { ProgressEvent } from '../../../daemon/changes/types.js';
import { Database } from '../../../daemon/db/database.js';
import { useEngine } from '../../helpers/engine.js';
import { daemonCaller } from '../../../daemon/caller/caller.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('change engine with a real state.db', () => {
  const use = useEngine();
  let db: Database;
  let engine: ChangeEngine;
  beforeEach(() => {
    engine = use.engine();
    db = use.db();
  });
  const waitReady = use.waitReady;

  it('runs the tasks of a change in order and passes earlier results on', async () => {
    const seen: unknown[][] = [];
    engine.register({
      name: 'step',
      async run(ctx) {
        seen.push([...ctx.previous]);
        return { n: ctx.data.n };
      },
    });
    const id = await engine.create({ owner: daemonCaller, kind: 'k', summary: 's', tasks: [1, 2, 3].map((n) => ({ kind: 'step', summary: `step ${n}`, data: { n } })) });
    const change = await waitReady(id);
    assert.equal(change.status, 'Done');
    assert.deepEqual(seen, [[], [{ n: 1 }], [{ n: 1 }, { n: 2 }]]);
    assert.deepEqual(change.result, { n: 3 });
  });

  it('keeps each task kind within its concurrency limit across changes', async () => {
    let running = 0;
    let peak = 0;
    engine.register({
      name: 'limited',
      concurrency: 2,
      async run() {
        running++;
        peak = Math.max(peak, running);
        await sleep(40);
        running--;
      },
    });
    const ids = await Promise.all(Array.from({ length: 6 }, () => engine.create({ owner: daemonCaller, kind: 'k', summary: 's', tasks: [{ kind: 'limited', summary: 't' }] })));
    for (const id of ids) assert.equal((await waitReady(id)).status, 'Done');
    assert.equal(peak, 2);
  });

  it('refuses a change with a task kind nobody registered', async () => {
    await assert.rejects(engine.create({ owner: daemonCaller, kind: 'k', summary: 's', tasks: [{ kind: 'nope', summary: 't' }] }), {
      kind: 'unknown-task-kind',
      message: 'cannot start change: no handler for task kind "nope"',
    });
  });

  it('turns an unexpected exception into Error "internal error: ..."', async () => {
    engine.register({
      name: 'buggy',
      async run() {
        throw new TypeError('x is undefined');
      },
    });
    const change = await waitReady(await engine.create({ owner: daemonCaller, kind: 'k', summary: 's', tasks: [{ kind: 'buggy', summary: 't' }] }));
    assert.equal(change.status, 'Error');
    assert.equal(change.err, 'internal error: x is undefined');
    assert.equal(change['err-kind'], 'internal-error');
  });

  it('throttles progress to at most 10 events per second per change and always delivers the last one before the final status', async () => {
    const kind: TaskKind = {
      name: 'chatty',
      async run(ctx) {
        for (let i = 1; i <= 400; i++) {
          ctx.progress('writing', i, 400);
          if (i % 20 === 0) await sleep(5);
        }
        await sleep(250);
        for (let i = 1; i <= 50; i++) ctx.progress('verifying', i, 50);
      },
    };
    engine.register(kind);
    const events: (ProgressEvent | string)[] = [];
    const times: number[] = [];
    engine.onProgress((e) => {
      events.push(e);
      times.push(Date.now());
    });
    engine.onStatus((e) => events.push(e.status));
    const id = await engine.create({ owner: daemonCaller, kind: 'k', summary: 's', tasks: [{ kind: 'chatty', summary: 't' }] });
    await waitReady(id);
    const progress = events.filter((e): e is ProgressEvent => typeof e !== 'string');
    assert.ok(progress.length >= 2 && progress.length < 10, `got ${progress.length} events for 450 reports`);
    // The last event may come early: it is the final state, flushed when the task ends.
    for (let i = 1; i < times.length - 1; i++) assert.ok(times[i]! - times[i - 1]! >= 95, `events ${i - 1} and ${i} are ${times[i]! - times[i - 1]!} ms apart`);
    const lastProgress = progress.at(-1)!;
    assert.equal(lastProgress.phase, 'verifying');
    assert.equal(lastProgress.bytes, 50);
    assert.equal(lastProgress.percentage, 100);
    assert.deepEqual(events.at(-1), 'Done');
    assert.equal(events.indexOf(lastProgress) < events.indexOf('Done'), true);
    const stored = await engine.get(id);
    assert.equal(stored.tasks[0]!.progress!.phase, 'verifying');
  });

  it('aborts a change waiting for a slot without running its task', async () => {
    let runs = 0;
    engine.register({
      name: 'single',
      concurrency: 1,
      async run(ctx) {
        runs++;
        while (!ctx.signal.aborted) await sleep(5);
        throw new Error('aborted');
      },
    });
    const first = await engine.create({ owner: daemonCaller, kind: 'k', summary: 's', tasks: [{ kind: 'single', summary: 't' }] });
    const second = await engine.create({ owner: daemonCaller, kind: 'k', summary: 's', tasks: [{ kind: 'single', summary: 't' }] });
    await sleep(30);
    assert.equal((await engine.abort(second)).status, 'Abort');
    assert.equal((await engine.abort(first)).status, 'Abort');
    assert.equal(runs, 1);
  });

  it('recovers after a crash: Doing becomes Error, never-started changes run', async () => {
    const repo = new ChangeRepository(db);
    const crashed = await repo.create({ owner: daemonCaller, kind: 'k', summary: 'was running', tasks: [{ kind: 'step', summary: 'a' }, { kind: 'step', summary: 'b' }] });
    const [taskA] = await repo.tasksOf(crashed);
    await repo.setChangeStatus(crashed, 'Doing');
    await repo.setTaskStatus(taskA!.id, 'Doing');
    const queued = await repo.create({ owner: daemonCaller, kind: 'k', summary: 'never started', tasks: [{ kind: 'step', summary: 'c' }] });
    engine.register({ name: 'step', async run() {} });
    await engine.start();
    const c1 = await engine.get(String(crashed));
    assert.equal(c1.status, 'Error');
    assert.equal(c1.err, 'interrupted by daemon restart');
    assert.deepEqual(c1.tasks.map((t) => t.status), ['Error', 'Hold']);
    assert.equal((await waitReady(String(queued))).status, 'Done');
  });
});
