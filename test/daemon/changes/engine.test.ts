import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { ChangeEngine, type StatusEvent, type TaskKind } from '../../../daemon/changes/engine.js';
import { ChangeRepository } from '../../../daemon/changes/repository.js';
import type { ProgressEvent } from '../../../daemon/changes/types.js';
import { Database } from '../../../daemon/db/database.js';
import { useEngine } from '../../helpers/engine.js';
import type { ManualClock } from '../../helpers/clock.js';
import { daemonCaller } from '../../../daemon/caller/caller.js';

/** Tasks that run until the test lets them go, one at a time, so no test waits on the wall clock. */
class Gate {
  running = 0;
  peak = 0;
  private waiting: (() => void)[] = [];
  private wake = () => {};

  /** Called by a task: counts it as running until the test releases it. */
  async pass(): Promise<void> {
    this.running++;
    this.peak = Math.max(this.peak, this.running);
    await new Promise<void>((resolve) => {
      this.waiting.push(resolve);
      this.wake();
    });
    this.running--;
  }

  /** Waits until at least `count` tasks are held, then lets the oldest go. */
  async releaseOne(count: number): Promise<void> {
    while (this.waiting.length < count) await new Promise<void>((resolve) => (this.wake = resolve));
    this.waiting.shift()!();
  }
}

/** Records every status event, and waits for one. */
function statusLog(engine: ChangeEngine): { reached(change: string, status: string): Promise<void> } {
  const seen: StatusEvent[] = [];
  let wake = () => {};
  engine.onStatus((e) => {
    seen.push(e);
    wake();
  });
  return {
    async reached(change, status) {
      while (!seen.some((e) => e.change === change && e.status === status)) await new Promise<void>((resolve) => (wake = resolve));
    },
  };
}

describe('change engine with a real state.db', () => {
  const use = useEngine();
  let db: Database;
  let engine: ChangeEngine;
  let clock: ManualClock;
  beforeEach(() => {
    engine = use.engine();
    db = use.db();
    clock = use.clock();
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
    const gate = new Gate();
    engine.register({ name: 'limited', concurrency: 2, run: () => gate.pass() });
    const ids = await Promise.all(Array.from({ length: 6 }, () => engine.create({ owner: daemonCaller, kind: 'k', summary: 's', tasks: [{ kind: 'limited', summary: 't' }] })));
    // Each round waits until two tasks run (one for the last), so a third one let in would be counted.
    for (let left = 6; left > 0; left--) await gate.releaseOne(Math.min(2, left));
    for (const id of ids) assert.equal((await waitReady(id)).status, 'Done');
    assert.equal(gate.peak, 2);
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
        // 400 reports over 100 ms, a pause of 250 ms, then 50 reports at one instant.
        for (let i = 1; i <= 400; i++) {
          ctx.progress('writing', i, 400);
          if (i % 20 === 0) clock.advance(5);
        }
        clock.advance(250);
        for (let i = 1; i <= 50; i++) ctx.progress('verifying', i, 50);
      },
    };
    engine.register(kind);
    const start = clock.now();
    const events: (ProgressEvent | string)[] = [];
    const times: number[] = [];
    engine.onProgress((e) => {
      events.push(e);
      times.push(clock.now() - start);
    });
    engine.onStatus((e) => events.push(e.status));
    const id = await engine.create({ owner: daemonCaller, kind: 'k', summary: 's', tasks: [{ kind: 'chatty', summary: 't' }] });
    await waitReady(id);
    const progress = events.filter((e): e is ProgressEvent => typeof e !== 'string');
    // The first report goes out at once; the newest held one when 100 ms have passed; after the pause the next
    // goes out at once again; the last one is flushed when the task ends, before the status.
    assert.deepEqual(
      progress.map((e, i) => [e.phase, e.done, times[i]]),
      [['writing', 1, 0], ['writing', 400, 100], ['verifying', 1, 350], ['verifying', 50, 350]],
    );
    // Report 400 was measured when made, at 95 ms: 399 bytes in 0.095 s.
    assert.deepEqual(
      progress.map((e) => [e.unit, e.total, e.percentage, e.speed, e.eta]),
      [['bytes', 400, 0.3, 0, null], ['bytes', 400, 100, 4200, 0], ['bytes', 50, 2, 0, null], ['bytes', 50, 100, 0, 0]],
    );
    assert.deepEqual(events.at(-1), 'Done');
    assert.equal(events.indexOf(progress.at(-1)!) < events.indexOf('Done'), true);
    const stored = await engine.get(id);
    assert.deepEqual(stored.tasks[0]!.progress, { phase: 'verifying', done: 50, bytes: 50, total: 50, unit: 'bytes', speed: 0, eta: 0, percentage: 100 });
  });

  it('reports a task counted in steps as steps, and an unknown total as null', async () => {
    engine.register({
      name: 'stepper',
      async run(ctx) {
        ctx.progress('generating', 1, 3, { unit: 'steps' });
        clock.advance(100);
        ctx.progress('preparing', 0, 0);
        clock.advance(100);
        ctx.progress('decompressing', 1000, null, { fraction: 0.25 });
        clock.advance(2000);
        ctx.progress('decompressing', 5000, null, { fraction: 0.5 });
      },
    });
    const events: ProgressEvent[] = [];
    engine.onProgress((e) => events.push(e));
    await waitReady(await engine.create({ owner: daemonCaller, kind: 'k', summary: 's', tasks: [{ kind: 'stepper', summary: 't' }] }));
    assert.deepEqual(
      events.map((e) => [e.phase, e.unit, e.done, e.total, e.percentage, e.speed, e.eta]),
      [
        ['generating', 'steps', 1, 3, 33.3, 0, null],
        ['preparing', 'bytes', 0, null, null, 0, null],
        ['decompressing', 'bytes', 1000, null, 25, 0, null],
        // Half of the file in 2 s: 2 s to go; the speed is of the bytes that came out.
        ['decompressing', 'bytes', 5000, null, 50, 2000, 2],
      ],
    );
  });

  it('aborts a change waiting for a slot without running its task', async () => {
    let runs = 0;
    let started!: () => void;
    const firstStarted = new Promise<void>((resolve) => (started = resolve));
    engine.register({
      name: 'single',
      concurrency: 1,
      async run(ctx) {
        runs++;
        started();
        await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }));
        throw new Error('aborted');
      },
    });
    const statuses = statusLog(engine);
    const first = await engine.create({ owner: daemonCaller, kind: 'k', summary: 's', tasks: [{ kind: 'single', summary: 't' }] });
    await firstStarted;
    const second = await engine.create({ owner: daemonCaller, kind: 'k', summary: 's', tasks: [{ kind: 'single', summary: 't' }] });
    // Doing is announced just before its task asks for the only slot, which the first change holds.
    await statuses.reached(second, 'Doing');
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
