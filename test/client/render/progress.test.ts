// The progress line, from fixed events: what each unit and each unknown looks like.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ProgressEvent } from '../../../daemon/api/types.js';
import { renderProgressLine } from '../../../client/render/progress.js';

const MiB = 1 << 20;
const event = (fields: Partial<ProgressEvent>): ProgressEvent => ({
  change: '1', task: '1', status: 'Doing', phase: 'downloading', done: 0, bytes: 0, total: null, unit: 'bytes', speed: 0, eta: null, percentage: null, ...fields,
});

describe('progress line', () => {
  it('gives a download its bar, percentage, sizes, speed and time left', () => {
    const line = renderProgressLine(event({ phase: 'pc-kernel', done: 120 * MiB, bytes: 120 * MiB, total: 266 * MiB, speed: 38.2 * MiB, eta: 4, percentage: 45.1 }), 100);
    assert.equal(line, 'pc-kernel     [##############..................]   45.1%  120.0 MiB/266.0 MiB  38.2 MiB/s  ETA 0:04');
  });

  it('shows what is known while the total is not: the size so far, speed, and the share of the file read', () => {
    assert.equal(renderProgressLine(event({ phase: 'decompressing', done: 5 * MiB, bytes: 5 * MiB, speed: MiB }), 80), 'decompressing  5.0 MiB  1.0 MiB/s');
    assert.equal(
      renderProgressLine(event({ phase: 'decompressing', done: 5 * MiB, bytes: 5 * MiB, speed: MiB, percentage: 25, eta: 6 }), 80),
      'decompressing  [######..................]   25.0%  5.0 MiB  1.0 MiB/s  ETA 0:06',
    );
    assert.equal(renderProgressLine(event({ phase: 'resolve snaps' }), 80), 'resolve snaps');
  });

  it('shows a task counted in steps as the step under way, never as bytes', () => {
    const steps = (phase: string, done: number) => renderProgressLine(event({ phase, done, bytes: done, total: 3, unit: 'steps', percentage: (done / 3) * 100 }), 80);
    assert.deepEqual(
      [steps('generating RSA key', 0), steps('encrypting key', 1), steps('storing key', 2), steps('stored', 3)],
      ['step 1/3: generating RSA key', 'step 2/3: encrypting key', 'step 3/3: storing key', 'step 3/3: stored'],
    );
    assert.equal(renderProgressLine(event({ phase: 'stored', done: 3, total: 3, unit: 'steps' }), 80, 'brand-key '), 'brand-key step 3/3: stored');
  });

  it('fits the terminal, bar and all, leaving its last column free', () => {
    for (const width of [40, 80, 100, 160]) {
      const line = renderProgressLine(event({ phase: 'flashing', done: MiB, bytes: MiB, total: 100 * MiB, speed: MiB, eta: 99, percentage: 1 }), width);
      assert.ok(line.length < width, `${width}: ${line}`);
      if (width >= 80) assert.match(line, /\[#*\.+\].*ETA 1:39$/, `${width}: the time left is shown whole`);
    }
  });
});
