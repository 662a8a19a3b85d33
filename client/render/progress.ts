import type { ProgressEvent } from '../../daemon/api/types.js';
import { formatBytes, formatDuration } from './format.js';

/**
 * One progress line: phase, bar, percentage, amount, speed, ETA, fitted to the
 * terminal width. A task counted in steps (key creation) reads "step 2/3:
 * PHASE" instead of sizes and speeds. Pure, so the same text is tested and shown.
 */
export function renderProgressLine(event: ProgressEvent, width: number, label = ''): string {
  const fit = (line: string) => line.slice(0, Math.max(1, width - 1));
  if (event.unit === 'steps') return fit(`${label}${stepText(event)}`);
  const pct = event.percentage !== null ? `${event.percentage.toFixed(1).padStart(5)}%` : '';
  const amount = event.total !== null ? `${formatBytes(event.done)}/${formatBytes(event.total)}` : event.done > 0 ? formatBytes(event.done) : '';
  const speed = event.speed > 0 ? `${formatBytes(event.speed)}/s` : '';
  const eta = event.eta !== null && event.eta > 0 ? `ETA ${formatDuration(event.eta)}` : '';
  const head = `${label}${event.phase}`.slice(0, 24).padEnd(Math.min(24, Math.max(12, label.length + event.phase.length)));
  const tail = [pct, amount, speed, eta].filter(Boolean).join('  ');
  // Two separators and the brackets take 6 columns; the terminal's last column stays free so a line never wraps.
  const barWidth = Math.max(0, Math.min(40, width - head.length - tail.length - 7));
  let bar = '';
  if (barWidth >= 10 && event.percentage !== null) {
    const filled = Math.round((Math.min(100, event.percentage) / 100) * barWidth);
    bar = `[${'#'.repeat(filled)}${'.'.repeat(barWidth - filled)}]`;
  }
  return fit([head, bar, tail].filter(Boolean).join('  '));
}

/** "step N/TOTAL: PHASE", N being the step under way (the last one once all are done); the phase alone when uncounted. */
export function stepText(progress: { phase: string; done: number; total: number | null }): string {
  if (progress.total === null) return progress.phase;
  return `step ${Math.min(progress.done + 1, progress.total)}/${progress.total}: ${progress.phase}`;
}
