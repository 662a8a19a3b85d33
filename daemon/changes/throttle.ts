import { type Clock, systemClock } from '../clock.js';

/**
 * Lets at most one value through per interval for each key, holding the
 * newest in between, so a fast writer cannot flood socket.io clients or sqlite.
 * `flush(key)` delivers the held value at once (used before a final status so
 * the final state always follows the last progress).
 */
export class KeyedThrottle<T> {
  private last = new Map<string, number>();
  private pending = new Map<string, { value: T; cancel: () => void }>();

  constructor(
    private readonly intervalMs: number,
    private readonly deliver: (key: string, value: T) => void,
    private readonly clock: Clock = systemClock,
  ) {}

  push(key: string, value: T): void {
    const held = this.pending.get(key);
    if (held) {
      held.value = value;
      return;
    }
    const wait = (this.last.get(key) ?? -Infinity) + this.intervalMs - this.clock.now();
    if (wait <= 0) {
      this.emit(key, value);
      return;
    }
    this.pending.set(key, { value, cancel: this.clock.after(wait, () => this.flush(key)) });
  }

  flush(key: string): void {
    const held = this.pending.get(key);
    if (!held) return;
    held.cancel();
    this.pending.delete(key);
    this.emit(key, held.value);
  }

  /** Forgets a key (its change is over) after delivering anything held. */
  end(key: string): void {
    this.flush(key);
    this.last.delete(key);
  }

  /** Flushes every key the predicate selects (all targets of one change). */
  flushMatching(match: (key: string) => boolean): void {
    for (const key of [...this.pending.keys()]) if (match(key)) this.flush(key);
  }

  /** Ends every key the predicate selects, delivering anything held. */
  endMatching(match: (key: string) => boolean): void {
    this.flushMatching(match);
    for (const key of [...this.last.keys()]) if (match(key)) this.last.delete(key);
  }

  private emit(key: string, value: T): void {
    this.last.set(key, this.clock.now());
    this.deliver(key, value);
  }
}
