import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { EventStream } from '../../../client/events.js';
import type { ProgressEvent, StatusEvent } from '../../../daemon/api/types.js';
import { useDaemon, type DaemonProcess } from '../../helpers/daemon.js';

describe('live progress over socket.io on the API socket', () => {
  const use = useDaemon();
  let daemon: DaemonProcess;
  before(() => (daemon = use.daemon()));

  const collect = (stream: EventStream, change: () => string | undefined) => {
    const got: { progress: ProgressEvent[]; status: StatusEvent[]; times: number[] } = { progress: [], status: [], times: [] };
    const done = new Promise<void>((resolve) => {
      stream.onProgress((e) => {
        got.progress.push(e);
        got.times.push(Date.now());
      });
      stream.onStatus((e) => {
        got.status.push(e);
        if (e.change === change() && ['Done', 'Error', 'Abort'].includes(e.status)) resolve();
      });
    });
    return { got, done };
  };

  it('streams throttled progress of one change and ends with its final status', async () => {
    const stream = new EventStream(daemon.socketPath);
    let id: string | undefined;
    const { got, done } = collect(stream, () => id);
    try {
      await stream.subscribe('*');
      id = await daemon.transport.call<string>('POST', '/v1/test/changes', {
        tasks: [{ kind: 'test-sleep', data: { ms: 1500, steps: 300, total: 3000, phase: 'flashing' } }],
      });
      await done;
      const mine = got.progress.filter((e) => e.change === id);
      const times = got.times.filter((_, i) => got.progress[i]!.change === id);
      // 300 reports; at most 10 per second get through, plus the final flush.
      const seconds = (times.at(-1)! - times[0]!) / 1000;
      assert.ok(mine.length >= 3 && mine.length <= Math.floor(seconds * 10) + 2, `${mine.length} progress events in ${seconds} s`);
      const last = mine.at(-1)!;
      assert.deepEqual(
        { phase: last.phase, done: last.done, bytes: last.bytes, total: last.total, unit: last.unit, percentage: last.percentage, status: last.status },
        { phase: 'flashing', done: 3000, bytes: 3000, total: 3000, unit: 'bytes', percentage: 100, status: 'Doing' },
      );
      assert.ok(mine.some((e) => e.speed > 0), 'speed is measured');
      for (const key of ['change', 'task', 'status', 'phase', 'done', 'bytes', 'total', 'unit', 'percentage', 'speed', 'eta']) assert.ok(key in last, `event has ${key}`);
      assert.deepEqual(got.status.filter((s) => s.change === id).map((s) => s.status), ['Doing', 'Done']);
    } finally {
      stream.close();
    }
  });

  it('sends the final status at once to a client that subscribes after the change finished', async () => {
    const id = await daemon.transport.call<string>('POST', '/v1/test/changes', { tasks: [{ kind: 'test-fail' }] });
    for (;;) {
      const c = await daemon.transport.call<{ ready: boolean }>('GET', `/v1/changes/${id}`);
      if (c.ready) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const stream = new EventStream(daemon.socketPath);
    const { got, done } = collect(stream, () => id);
    try {
      await stream.subscribe(id);
      await done;
      assert.equal(got.status[0]!.status, 'Error');
      assert.equal(got.status[0]!.err, 'cannot continue: the test task fails on purpose');
    } finally {
      stream.close();
    }
  });

  it('only sends a subscriber the changes it asked for', async () => {
    const stream = new EventStream(daemon.socketPath);
    let watched: string | undefined;
    const { got, done } = collect(stream, () => watched);
    try {
      const other = await daemon.transport.call<string>('POST', '/v1/test/changes', { tasks: [{ kind: 'test-sleep', data: { ms: 300, steps: 10 } }] });
      watched = await daemon.transport.call<string>('POST', '/v1/test/changes', { tasks: [{ kind: 'test-sleep', data: { ms: 300, steps: 10 } }] });
      await stream.subscribe(watched);
      await done;
      assert.ok(got.progress.length > 0);
      assert.ok(got.progress.every((e) => e.change === watched));
      assert.ok(got.status.every((e) => e.change === watched) && !got.status.some((e) => e.change === other));
    } finally {
      stream.close();
    }
  });

  it('refuses to subscribe to a change that does not exist', async () => {
    const stream = new EventStream(daemon.socketPath);
    try {
      await assert.rejects(stream.subscribe('424242'), /cannot find change "424242"/);
    } finally {
      stream.close();
    }
  });
});
