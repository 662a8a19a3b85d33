import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProgressTracker } from '../../../daemon/changes/progress.js';
import { KeyedThrottle } from '../../../daemon/changes/throttle.js';
import type { ProgressReport } from '../../../daemon/changes/types.js';
import { ManualClock } from '../../helpers/clock.js';

const bytes = (phase: string, done: number, total: number | null, fraction?: number): ProgressReport => ({ phase, done, total, unit: 'bytes', ...(fraction === undefined ? {} : { fraction }) });

describe('progress tracker', () => {
  it('measures speed over the recent window and derives the ETA', () => {
    let now = 0;
    const tracker = new ProgressTracker(() => now);
    assert.deepEqual(tracker.update(bytes('flashing', 0, 100_000_000)), { phase: 'flashing', done: 0, bytes: 0, total: 100_000_000, unit: 'bytes', speed: 0, eta: null, percentage: 0 });
    now = 1000;
    const p = tracker.update(bytes('flashing', 10_000_000, 100_000_000));
    assert.equal(p.speed, 10_000_000);
    assert.equal(p.eta, 9);
    assert.equal(p.percentage, 10);
  });

  it('forgets old samples so a drive that slows down shows its new speed', () => {
    let now = 0;
    const tracker = new ProgressTracker(() => now);
    for (let s = 0; s <= 10; s++) {
      now = s * 1000;
      tracker.update(bytes('flashing', s * 50_000_000, 2_000_000_000));
    }
    for (let s = 11; s <= 20; s++) {
      now = s * 1000;
      tracker.update(bytes('flashing', 500_000_000 + (s - 10) * 5_000_000, 2_000_000_000));
    }
    now = 21_000;
    const p = tracker.update(bytes('flashing', 555_000_000, 2_000_000_000));
    assert.ok(p.speed <= 5_000_000 * 1.01, `speed ${p.speed} reflects the last seconds only`);
  });

  it('measures a burst over the window, not since the phase began', () => {
    let now = 0;
    const tracker = new ProgressTracker(() => now);
    for (const [at, done] of [[0, 0], [1000, 100], [2000, 200], [3000, 300], [4000, 400]] as const) {
      now = at;
      tracker.update(bytes('flashing', done, 2000));
    }
    now = 5000;
    const p = tracker.update(bytes('flashing', 1000, 2000)); // 600 B in the last second
    assert.equal(p.speed, 267); // (1000-200) over the last 3 s, not 1000 over 5
    assert.equal(p.eta, 4);
    assert.equal(p.percentage, 50);
  });

  it('restarts the window when the phase changes', () => {
    let now = 0;
    const tracker = new ProgressTracker(() => now);
    tracker.update(bytes('flashing', 0, 100));
    now = 1000;
    tracker.update(bytes('flashing', 100, 100));
    now = 1100;
    assert.equal(tracker.update(bytes('verifying', 0, 100)).speed, 0);
  });

  it('reports 0 seconds left and 100 percent when done, and null while the total is unknown', () => {
    const tracker = new ProgressTracker(() => 0);
    assert.deepEqual([tracker.update(bytes('x', 5, 5)).eta, tracker.update(bytes('x', 5, 5)).percentage], [0, 100]);
    const unknown = tracker.update(bytes('y', 5, 0));
    assert.deepEqual([unknown.total, unknown.eta, unknown.percentage], [null, null, null]);
    assert.equal(tracker.update(bytes('z', 5, null)).total, null);
  });

  it('falls back to the fraction of the file read while the total is unknown', () => {
    let now = 0;
    const tracker = new ProgressTracker(() => now);
    tracker.update(bytes('decompressing', 0, null, 0));
    now = 2000;
    const p = tracker.update(bytes('decompressing', 4000, null, 0.25));
    assert.deepEqual([p.total, p.percentage, p.eta, p.speed], [null, 25, 6, 2000]);
    assert.deepEqual([tracker.update(bytes('decompressing', 5000, null)).percentage, tracker.update(bytes('decompressing', 5000, null, 1)).eta], [null, 0]);
  });

  it('counts steps as steps: no bytes implied, the same percentage', () => {
    const tracker = new ProgressTracker(() => 0);
    assert.deepEqual(tracker.update({ phase: 'encrypting key', done: 1, total: 3, unit: 'steps' }), {
      phase: 'encrypting key', done: 1, bytes: 1, total: 3, unit: 'steps', speed: 0, eta: null, percentage: 33.3,
    });
  });
});

describe('keyed throttle', () => {
  it('delivers the first value at once, holds the newest, and flushes on demand', () => {
    const clock = new ManualClock();
    const got: [string, number][] = [];
    const throttle = new KeyedThrottle<number>(100, (k, v) => got.push([k, v]), clock);
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
    assert.equal(clock.pending(), 0, 'no timer is left behind');
  });

  it('delivers the held value when the interval has passed', () => {
    const clock = new ManualClock();
    const got: [number, number][] = [];
    const throttle = new KeyedThrottle<number>(100, (_k, v) => got.push([clock.now(), v]), clock);
    throttle.push('a', 1);
    clock.advance(30);
    throttle.push('a', 2);
    throttle.push('a', 3);
    clock.advance(69);
    assert.deepEqual(got, [[0, 1]]);
    clock.advance(1);
    assert.deepEqual(got, [[0, 1], [100, 3]]);
    clock.advance(500);
    throttle.push('a', 4);
    assert.deepEqual(got.at(-1), [600, 4]);
  });
});
