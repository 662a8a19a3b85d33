import type { TaskProgress } from './types.js';

/** How far back speed is measured: long enough to smooth bursts, short enough to follow a slowing drive. */
const speedWindowMs = 3000;

/**
 * Turns raw `(phase, bytes, total)` reports into the one progress shape every
 * consumer sees (socket.io, CLI bars, the TUI), with speed over a short window
 * and an ETA. The clock is injected so tests are exact.
 */
export class ProgressTracker {
  private samples: { at: number; bytes: number }[] = [];
  private phase = '';

  constructor(private readonly now: () => number = Date.now) {}

  update(phase: string, bytes: number, total: number): TaskProgress {
    const at = this.now();
    if (phase !== this.phase) {
      this.phase = phase;
      this.samples = [];
    }
    this.samples.push({ at, bytes });
    while (this.samples.length > 2 && at - this.samples[1]!.at >= speedWindowMs) this.samples.shift();
    const first = this.samples[0]!;
    const elapsed = (at - first.at) / 1000;
    const speed = elapsed > 0 ? Math.max(0, (bytes - first.bytes) / elapsed) : 0;
    const left = Math.max(0, total - bytes);
    return {
      phase,
      bytes,
      total,
      speed: Math.round(speed),
      eta: total > 0 && speed > 0 ? Math.round(left / speed) : total > 0 && left === 0 ? 0 : null,
      percentage: total > 0 ? Math.min(100, Math.round((bytes / total) * 1000) / 10) : 0,
    };
  }
}
