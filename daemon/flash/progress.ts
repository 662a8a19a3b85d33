/** The phases a flash target goes through, in order. */
export type FlashPhase = 'decompressing' | 'flashing' | 'verifying';

/**
 * A raw progress report of one flash target. Speed, ETA and percentage are
 * not the library's business: the change engine's one meter
 * (daemon/changes/progress.ts) makes them for every kind of task.
 */
export interface FlashProgress {
  phase: FlashPhase;
  /** Image bytes done in this phase. */
  bytes: number;
  /** Image bytes this phase will handle; null while unknown (a gzip image without a bmap). */
  total: number | null;
  /** 0-1, how far through the image file the phase is while `total` is unknown. */
  fraction?: number;
}

/** Called with each target's progress; throttling and metering are the caller's business. */
export type FlashProgressCallback = (target: string, progress: FlashProgress) => void;
