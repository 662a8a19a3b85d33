// One task working on several targets at once (a flash writing three drives from one read).
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { ChangeEngine } from '../../../daemon/changes/engine.js';
import type { ProgressEvent } from '../../../daemon/changes/types.js';
import { CoreforgeError } from '../../../daemon/errors.js';
import { useEngine } from '../../helpers/engine.js';
import { daemonCaller } from '../../../daemon/caller/caller.js';

describe('change engine tasks with several targets', () => {
  const use = useEngine();
  let engine: ChangeEngine;
  beforeEach(() => {
    engine = use.engine();
  });
  const waitReady = use.waitReady;

  it('throttles progress per target and delivers every target\'s last event before the final status', async () => {
    engine.register({
      name: 'multi',
      async run(ctx) {
        for (let i = 1; i <= 50; i++) for (const t of ['/dev/a', '/dev/b', '/dev/c']) ctx.progress('flashing', i, 50, t);
        return null;
      },
    });
    const seen: (ProgressEvent | string)[] = [];
    engine.onProgress((e) => seen.push(e));
    engine.onStatus((e) => seen.push(e.status));
    const id = await engine.create({ owner: daemonCaller, kind: 'k', summary: 's', tasks: [{ kind: 'multi', summary: 'm' }] });
    assert.equal((await waitReady(id)).status, 'Done');
    const events = seen.filter((e): e is ProgressEvent => typeof e !== 'string');
    for (const t of ['/dev/a', '/dev/b', '/dev/c']) {
      const last = events.filter((e) => e.target === t).at(-1);
      assert.deepEqual([last?.bytes, last?.percentage], [50, 100], `${t} ends at 100%`);
    }
    assert.ok(events.length <= 9, `at most one immediate and one held event per target (${events.length})`);
    assert.equal(seen.at(-1), 'Done');
    assert.ok(seen.indexOf('Done') > seen.findLastIndex((e) => typeof e !== 'string'), 'the status comes after every progress event');
  });

  it('keeps the partial result of a task that fails with one in its error details', async () => {
    engine.register({
      name: 'partial',
      async run() {
        throw new CoreforgeError('no-space', 'cannot write /dev/b at bytes 0-9: no space left on the drive', { result: { ok: ['/dev/a'], failed: ['/dev/b'] } });
      },
    });
    const id = await engine.create({ owner: daemonCaller, kind: 'k', summary: 's', tasks: [{ kind: 'partial', summary: 'p' }] });
    const change = await waitReady(id);
    assert.deepEqual([change.status, change['err-kind'], change.err], ['Error', 'no-space', 'cannot write /dev/b at bytes 0-9: no space left on the drive']);
    assert.deepEqual(change.result, { ok: ['/dev/a'], failed: ['/dev/b'] });
  });
});
