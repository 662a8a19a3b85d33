/**
 * Time as the daemon's timed logic sees it (progress speed, throttling, how
 * long a secret is held). Injected so tests move time themselves instead of
 * sleeping and hoping the machine kept up.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Calls `fn` once `ms` have passed and returns what cancels it; a pending call never keeps the process alive. */
  after(ms: number, fn: () => void): () => void;
}

/** The real clock: Date.now and unref'd timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  after(ms, fn) {
    const timer = setTimeout(fn, ms);
    timer.unref();
    return () => clearTimeout(timer);
  },
};
