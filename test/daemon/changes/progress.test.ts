import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProgressTracker } from '../../../daemon/changes/progress.js';
import { KeyedThrottle } from '../../../daemon/changes/throttle.js';

describe('progress tracker', () => {
  it('measures speed over the recent window and derives the ETA', () => {
    let now = 0;
    const tracker = new ProgressTracker(() => now);
    assert.deepEqual(tracker.update('flashing', 0, 100_000_000), { phase: 'flashing', bytes: 0, total: 100_000_000, speed: 0, eta: null, percentage: 0 });
    now = 1000;
    const p = tracker.update('flashing', 10_000_000, 100_000_000);
    assert.equal(p.speed, 10_000_000);
    assert.equal(p.eta, 9);
    assert.equal(p.percentage, 10);
  });

  it('forgets old samples so a drive that slows down shows its new speed', () => {
    let now = 0;
    const tracker = new ProgressTracker(() => now);
    for (let s = 0; s <= 10; s++) {
      now = s * 1000;
      tracker.update('flashing', s * 50_000_000, 2_000_000_000);
    }
    for (let s = 11; s <= 20; s++) {
      now = s * 1000;
      tracker.update('flashing', 500_000_000 + (s - 10) * 5_000_000, 2_000_000_000);
    }
    now = 21_000;
    const p = tracker.update('flashing', 555_000_000, 2_000_000_000);
    assert.ok(p.speed <= 5_000_000 * 1.01, `speed ${p.speed} reflects the last seconds only`);
  });

  it('restarts the window when the phase changes', () => {
    let now = 0;
    const tracker = new ProgressTracker(() => now);
    tracker.update('flashing', 0, 100);
    now = 1000;
    tracker.update('flashing', 100, 100);
    now = 1100;
    assert.equal(tracker.update('verifying', 0, 100).speed, 0);
  });

  it('reports 0 seconds left when done and null while the total is unknown', () => {
    const tracker = new ProgressTracker(() => 0);
    assert.equal(tracker.update('x', 5, 5).eta, 0);
    assert.equal(tracker.update('y', 5, 0).eta, null);
  });
});

describe('keyed throttle', () => {
  it('delivers the first value at once, holds the newest, and flushes on demand', () => {
    let now = 0;
    const got: [string, number][] = [];
    const throttle = new KeyedThrottle<number>(100, (k, v) => got.push([k, v]), () => now);
    throttle.push('a', 1);
    throttle.push('a', 2);
    throttle.push('a', 3);
    throttle.push('b', 10);
    assert.deepEqual(got, [
      ['a', 1],
      ['b', 10],
    ]);
    throttle.flush('a');
    assert.deepEqual(got.at(-1), ['a', 3]);
    throttle.end('a');
    throttle.end('b');
  });
});
