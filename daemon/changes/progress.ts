import type { ProgressReport, TaskProgress } from './types.js';

/** How far back speed is measured: long enough to smooth bursts, short enough to follow a slowing drive. */
const speedWindowMs = 3000;

/**
 * The one progress meter: turns a task's raw reports into the progress shape
 * every consumer sees (socket.io, CLI bars, the TUI), with speed over a short
 * window and an ETA. One tracker follows one item (a task, or one drive of a
 * flash). The clock is injected so tests are exact.
 */
export class ProgressTracker {
  private samples: { at: number; done: number }[] = [];
  private phase: string | null = null;
  private phaseStartedAt = 0;

  constructor(private readonly now: () => number = Date.now) {}

  update(report: ProgressReport): TaskProgress {
    const at = this.now();
    const { phase, done, unit } = report;
    if (phase !== this.phase) {
      this.phase = phase;
      this.samples = [];
      this.phaseStartedAt = at;
    }
    this.samples.push({ at, done });
    while (this.samples.length > 2 && at - this.samples[1]!.at >= speedWindowMs) this.samples.shift();
    const first = this.samples[0]!;
    const windowSeconds = (at - first.at) / 1000;
    const speed = windowSeconds > 0 ? Math.max(0, (done - first.done) / windowSeconds) : 0;
    const total = report.total !== null && report.total > 0 ? report.total : null;
    // Without a total, the task's own fraction (its position in a compressed input) stands in for done/total.
    const fraction = total !== null ? Math.min(1, done / total) : report.fraction ?? null;
    return {
      phase,
      done,
      bytes: done,
      total,
      unit,
      speed: Math.round(speed),
      eta: eta(total, done, speed, fraction, (at - this.phaseStartedAt) / 1000),
      percentage: fraction === null ? null : Math.round(fraction * 1000) / 10,
    };
  }
}

/** Seconds left: from the recent speed when the total is known, else from how long the phase took to get this far. */
function eta(total: number | null, done: number, speed: number, fraction: number | null, elapsedSeconds: number): number | null {
  if (fraction === 1) return 0;
  if (total !== null) return speed > 0 ? Math.round(Math.max(0, total - done) / speed) : null;
  if (fraction !== null && fraction > 0 && elapsedSeconds > 0) return Math.round((elapsedSeconds * (1 - fraction)) / fraction);
  return null;
}
