import type { ProgressEvent } from '../../daemon/api/types.js';
import { formatBytes, formatDuration } from './format.js';

/**
 * One progress line: phase, bar, percentage, bytes, speed, ETA, fitted to the
 * terminal width. Pure, so the same text is tested and shown.
 */
export function renderProgressLine(event: ProgressEvent, width: number, label = ''): string {
  const pct = event.total > 0 ? `${event.percentage.toFixed(1).padStart(5)}%` : '';
  const amount = event.total > 0 ? `${formatBytes(event.bytes)}/${formatBytes(event.total)}` : event.bytes > 0 ? formatBytes(event.bytes) : '';
  const speed = event.speed > 0 ? `${formatBytes(event.speed)}/s` : '';
  const eta = event.eta !== null && event.eta > 0 ? `ETA ${formatDuration(event.eta)}` : '';
  const head = `${label}${event.phase}`.slice(0, 24).padEnd(Math.min(24, Math.max(12, label.length + event.phase.length)));
  const tail = [pct, amount, speed, eta].filter(Boolean).join('  ');
  const barWidth = Math.max(0, Math.min(40, width - head.length - tail.length - 6));
  let bar = '';
  if (barWidth >= 10 && event.total > 0) {
    const filled = Math.round((Math.min(event.bytes, event.total) / event.total) * barWidth);
    bar = `[${'#'.repeat(filled)}${'.'.repeat(barWidth - filled)}]`;
  }
  return [head, bar, tail].filter(Boolean).join('  ').slice(0, Math.max(1, width - 1));
}
