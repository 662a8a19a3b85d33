/** The phases a flash target goes through, in order. */
export type FlashPhase = 'decompressing' | 'flashing' | 'verifying';

/** The one progress shape for a flash target, passed unchanged to socket.io, the CLI and the TUI. */
export interface FlashProgress {
  phase: FlashPhase;
  /** Image bytes done in this phase. */
  bytes: number;
  /** Image bytes this phase will handle; null while unknown (a gzip image without a bmap). */
  total: number | null;
  /** Bytes per second over the last few seconds. */
  speed: number;
  /** Bytes per second since the phase started. */
  averageSpeed: number;
  /** Seconds left at the current speed; null while unknown. */
  eta: number | null;
  /** 0-100 with one decimal; null while unknown. */
  percentage: number | null;
}

/** Called with each target's progress; throttling is the caller's business. */
export type FlashProgressCallback = (target: string, progress: FlashProgress) => void;

/** How far back `speed` looks: long enough to smooth bursts, short enough to follow a slowing card. */
const windowMs = 3000;

/**
 * Makes progress reports for one phase of one target. `fraction`, when given,
 * stands in for bytes/total while the total is unknown (a compressed stream's
 * position in its file).
 */
export function progressMeter(phase: FlashPhase, total: number | null, now: () => number = Date.now) {
  const startedAt = now();
  const samples: { at: number; bytes: number }[] = [{ at: startedAt, bytes: 0 }];
  return (bytes: number, fraction?: number): FlashProgress => {
    const at = now();
    samples.push({ at, bytes });
    while (samples.length > 2 && at - samples[1]!.at >= windowMs) samples.shift();
    const first = samples[0]!;
    const speed = at > first.at ? (bytes - first.bytes) / ((at - first.at) / 1000) : 0;
    const averageSpeed = at > startedAt ? bytes / ((at - startedAt) / 1000) : 0;
    const done = total !== null ? (total > 0 ? Math.min(1, bytes / total) : 1) : fraction ?? null;
    let eta: number | null = null;
    if (total !== null && speed > 0) eta = Math.max(0, total - bytes) / speed;
    else if (done !== null && done > 0 && at > startedAt) eta = ((at - startedAt) / 1000) * (1 - done) / done;
    if (done === 1) eta = 0;
    return {
      phase,
      bytes,
      total,
      speed: Math.round(Math.max(0, speed)),
      averageSpeed: Math.round(averageSpeed),
      eta: eta === null ? null : Math.round(eta),
      percentage: done === null ? null : Math.round(done * 1000) / 10,
    };
  };
}
