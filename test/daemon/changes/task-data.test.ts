// Typed task data: checked by each kind's parser when a change is created and
// whenever it is read back from state.db; damaged stored data is reported, not a crash.
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { daemonCaller } from '../../../daemon/caller/caller.js';
import type { ChangeEngine, TaskKind } from '../../../daemon/changes/engine.js';
import { ChangeRepository } from '../../../daemon/changes/repository.js';
import { badTaskData, dataObject, stringField } from '../../../daemon/changes/task-data.js';
import type { Database } from '../../../daemon/db/database.js';
import { CoreforgeError } from '../../../daemon/errors.js';
import { useEngine } from '../../helpers/engine.js';

interface Greeting {
  name: string;
  times: number;
}

function parseGreeting(data: unknown): Greeting {
  const d = dataObject(data);
  const times = d.times ?? 1;
  if (typeof times !== 'number' || !Number.isInteger(times) || times < 1) throw badTaskData('times', 'must be a positive integer');
  return { name: stringField(d, 'name'), times };
}

describe('task data parsed on create and on read', () => {
  const use = useEngine();
  let db: Database;
  let engine: ChangeEngine;
  const seen: Greeting[] = [];
  const greet: TaskKind<Greeting> = {
    name: 'greet',
    parseData: parseGreeting,
    async run(ctx) {
      seen.push(ctx.data);
      return `${'hello '.repeat(ctx.data.times)}${ctx.data.name}`;
    },
  };
  beforeEach(() => {
    engine = use.engine();
    db = use.db();
    seen.length = 0;
    engine.register(greet);
  });
  const create = (data: unknown, summary = 'greet') =>
    engine.create({ owner: daemonCaller, kind: 'greeting', summary, tasks: [{ kind: 'greet', summary: `say ${summary}`, data: data as object }] });

  it('runs a task on its parsed data, and stores what the parser returned', async () => {
    const id = await create({ name: 'ada' });
    const change = await use.waitReady(id);
    assert.equal(change.status, 'Done');
    assert.equal(change.result, 'hello ada');
    assert.deepEqual(seen, [{ name: 'ada', times: 1 }]);
    const row = await db.get<{ data: string }>('SELECT data FROM tasks WHERE change_id = ?', [Number(id)]);
    assert.deepEqual(JSON.parse(row!.data), { name: 'ada', times: 1 });
  });

  const bad: { name: string; data: unknown; field: string; message: string }[] = [
    { name: 'a missing name', data: { times: 2 }, field: 'name', message: '"name" must be a non-empty string' },
    { name: 'times that is not a number', data: { name: 'ada', times: 'twice' }, field: 'times', message: '"times" must be a positive integer' },
    { name: 'data that is a list', data: ['ada'], field: 'data', message: '"data" must be a JSON object' },
  ];
  for (const c of bad) {
    it(`refuses to create a change with ${c.name}, naming the task kind and field, and stores nothing`, async () => {
      await assert.rejects(create(c.data, 'bad'), (err: CoreforgeError) => {
        assert.equal(err.kind, 'bad-task-data');
        assert.equal(err.message, `cannot start change "bad": the data of its task "say bad" (kind "greet") is not valid: ${c.message}; this is a bug in the code that made the change, please report it`);
        assert.deepEqual(err.details, { 'task-kind': 'greet', field: c.field });
        return true;
      });
      assert.deepEqual(await engine.list('all'), []);
    });
  }

  it('checks the change data with parseChangeData and hands the parsed value to the task', async () => {
    const got: unknown[] = [];
    engine.register<Record<string, unknown>, { target: string }>({
      name: 'uses-change',
      parseChangeData: (data) => ({ target: stringField(dataObject(data), 'target') }),
      async run(ctx) {
        got.push(ctx.changeData.target);
      },
    });
    const make = (data: object) => engine.create({ owner: daemonCaller, kind: 'k', summary: 'c', data, tasks: [{ kind: 'uses-change', summary: 't' }] });
    assert.equal((await use.waitReady(await make({ target: '/dev/sdz' }))).status, 'Done');
    assert.deepEqual(got, ['/dev/sdz']);
    await assert.rejects(make({}), {
      kind: 'bad-task-data',
      message: 'cannot start change "c": its data, as its task "t" (kind "uses-change") reads it, is not valid: "target" must be a non-empty string; this is a bug in the code that made the change, please report it',
    });
  });

  it('reports a finished change whose stored data no longer parses as stored-change-unreadable, in get and list, keeping its old error', async () => {
    const id = await create({ name: 'ada' });
    await use.waitReady(id);
    await db.run("UPDATE changes SET err = 'it failed before', err_kind = 'io-error' WHERE id = ?", [Number(id)]);
    await db.run(`UPDATE tasks SET data = '{"name": 42}' WHERE change_id = ?`, [Number(id)]);
    const [task] = await new ChangeRepository(db).tasksOf(Number(id));
    const message = `cannot use change ${id}: the data of its task ${task!.id} (kind "greet") no longer parses in state.db: "name" must be a non-empty string; the change cannot run, start the operation again`;
    const change = await engine.get(id);
    assert.equal(change.status, 'Done');
    assert.equal(change['err-kind'], 'stored-change-unreadable');
    assert.equal(change.err, message);
    assert.deepEqual(change['err-details'], {
      change: id,
      task: String(task!.id),
      'task-kind': 'greet',
      'data-of': 'task',
      field: 'name',
      'previous-err': 'it failed before',
      'previous-err-kind': 'io-error',
    });
    assert.equal(change.tasks[0]!.err, message);
    const listed = await engine.list('all');
    assert.deepEqual(listed.map((c) => [c.id, c['err-kind']]), [[id, 'stored-change-unreadable']]);
  });

  it('reports stored data that is not even JSON, and shows the rest of the listing', async () => {
    const fine = await create({ name: 'grace' });
    const broken = await create({ name: 'ada' });
    await use.waitReady(fine);
    await use.waitReady(broken);
    await db.run(`UPDATE tasks SET data = '{"name": "ad' WHERE change_id = ?`, [Number(broken)]);
    await db.run(`UPDATE changes SET data = 'not json' WHERE id = ?`, [Number(broken)]);
    const listed = await engine.list('all');
    assert.deepEqual(listed.map((c) => [c.id, c.status, c['err-kind'] ?? null]), [
      [fine, 'Done', null],
      [broken, 'Done', 'stored-change-unreadable'],
    ]);
    const change = listed[1]!;
    assert.match(change.err!, new RegExp(`^cannot use change ${broken}: the data of its task \\d+ \\(kind "greet"\\) no longer parses in state.db: "data" is not JSON \\(.+\\); the change cannot run, start the operation again$`));
    assert.deepEqual(change.data, {});
  });

  it('fails a change that was waiting to run when its stored data no longer parses, without running its task', async () => {
    const repo = new ChangeRepository(db);
    const id = await repo.create({ owner: daemonCaller, kind: 'greeting', summary: 'queued', tasks: [{ kind: 'greet', summary: 't', data: { name: 'ada' } }] });
    await db.run(`UPDATE tasks SET data = '{"name": "ada", "times": 0}' WHERE change_id = ?`, [id]);
    await engine.start();
    const change = await use.waitReady(String(id));
    assert.equal(change.status, 'Error');
    assert.equal(change['err-kind'], 'stored-change-unreadable');
    assert.match(change.err!, /no longer parses in state.db: "times" must be a positive integer; the change cannot run, start the operation again$/);
    assert.equal(change['err-details']!.field, 'times');
    assert.deepEqual(change.tasks.map((t) => t.status), ['Hold']);
    assert.deepEqual(seen, []);
    const row = await db.get<{ err_kind: string }>('SELECT err_kind FROM changes WHERE id = ?', [id]);
    assert.equal(row!.err_kind, 'stored-change-unreadable', 'the failure is stored, not only shown');
  });

  it("carries a task error's details into the change's err-details, and a partial result into its result", async () => {
    engine.register({
      name: 'fails-with-facts',
      async run() {
        throw new CoreforgeError('io-error', 'cannot write /dev/sdz at bytes 4096-8191: i/o error', { drive: '/dev/sdz', range: { start: 4096, end: 8192 }, result: { written: 1 } });
      },
    });
    const id = await engine.create({ owner: daemonCaller, kind: 'k', summary: 's', tasks: [{ kind: 'fails-with-facts', summary: 't' }] });
    const change = await use.waitReady(id);
    assert.equal(change['err-kind'], 'io-error');
    assert.deepEqual(change['err-details'], { drive: '/dev/sdz', range: { start: 4096, end: 8192 } });
    assert.deepEqual(change.result, { written: 1 });
  });

  it('reports an aborted change with the aborted kind', async () => {
    engine.register({
      name: 'waits',
      run: (ctx) => new Promise((_resolve, reject) => ctx.signal.addEventListener('abort', () => reject(new CoreforgeError('build-tool-failed', 'cannot run mkfs: it was killed')))),
    });
    const id = await engine.create({ owner: daemonCaller, kind: 'k', summary: 's', tasks: [{ kind: 'waits', summary: 't' }] });
    while ((await engine.get(id)).tasks[0]!.status !== 'Doing') await new Promise((r) => setImmediate(r));
    const change = await engine.abort(id);
    assert.deepEqual([change.status, change['err-kind'], change.err], ['Abort', 'aborted', 'aborted by request']);
  });
});
