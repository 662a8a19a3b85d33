import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { progressMeter } from '../../../daemon/flash/progress.js';

describe('progress', () => {
  it('reports speed over a short window, average speed, eta and percentage', () => {
    let now = 0;
    const report = progressMeter('flashing', 1000, () => now);
    now = 1000;
    assert.deepEqual(report(100), { phase: 'flashing', bytes: 100, total: 1000, speed: 100, averageSpeed: 100, eta: 9, percentage: 10 });
    for (const bytes of [200, 300, 400]) {
      now += 1000;
      report(bytes);
    }
    now = 5000;
    const p = report(1000); // a burst: 600 B in the last second
    assert.equal(p.averageSpeed, 200);
    assert.equal(p.speed, 267); // (1000-200) over the last 3 s, not the whole 5
    assert.equal(p.eta, 0);
    assert.equal(p.percentage, 100);
  });

  it('falls back to the fraction of the file read while the total is unknown', () => {
    let now = 0;
    const report = progressMeter('decompressing', null, () => now);
    now = 2000;
    const p = report(4000, 0.25);
    assert.equal(p.total, null);
    assert.equal(p.percentage, 25);
    assert.equal(p.eta, 6);
    assert.equal(report(5000).percentage, null);
  });

  it('ends at 100 percent with no time left', () => {
    let now = 0;
    const report = progressMeter('verifying', 10, () => now);
    now = 10;
    assert.deepEqual([report(10).percentage, report(10).eta], [100, 0]);
  });
});
