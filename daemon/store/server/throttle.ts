// Throttling of failed logins at the store server's SSO: a sliding window of
// failures per key (an account's email, a client address). Once a key has
// `failures` failures inside `windowMs`, every attempt under it is refused,
// right password or not, until the oldest of them leaves the window. Pure:
// the clock is given.

/** How many failures a key may have in a window. */
export interface ThrottleLimit {
  failures: number;
  windowMs: number;
}

/** A key whose limit is reached, and how long until it is not. */
export interface Throttled {
  key: string;
  limit: ThrottleLimit;
  waitMs: number;
}

/** One attempt counted by `begin`. */
export interface Attempt {
  keys: string[];
  time: number;
}

/** Failed-attempt counters by key, bounded in memory. */
export class FailureThrottle {
  /** key -> failure times, oldest first, at most `failures` of them */
  private readonly failures = new Map<string, { times: number[]; windowMs: number }>();

  constructor(
    private readonly now: () => number,
    /** keys kept at most; past it, keys whose failures have all left their window go first, then the oldest */
    private readonly maxKeys = 50_000,
  ) {}

  /** The key among these that must wait longest before another attempt; undefined when all may try now. */
  throttled(keys: [string, ThrottleLimit][]): Throttled | undefined {
    const now = this.now();
    let worst: Throttled | undefined;
    for (const [key, limit] of keys) {
      const times = this.failures.get(key)?.times.filter((t) => t > now - limit.windowMs) ?? [];
      if (times.length < limit.failures) continue;
      const waitMs = times[times.length - limit.failures]! + limit.windowMs - now;
      if (!worst || waitMs > worst.waitMs) worst = { key, limit, waitMs };
    }
    return worst;
  }

  /** Counts one failure under each key, now; the handle lets `forgive` take it back. */
  begin(keys: [string, ThrottleLimit][]): Attempt {
    const now = this.now();
    for (const [key, limit] of keys) {
      const entry = this.failures.get(key) ?? { times: [], windowMs: limit.windowMs };
      entry.times = [...entry.times.filter((t) => t > now - limit.windowMs), now].slice(-limit.failures);
      entry.windowMs = limit.windowMs;
      this.failures.delete(key);
      this.failures.set(key, entry); // most recently failed last: the eviction order
    }
    if (this.failures.size > this.maxKeys) this.prune(now);
    return { keys: keys.map(([k]) => k), time: now };
  }

  /** Takes back the failure `begin` counted, for an attempt that turned out not to fail. */
  forgive(attempt: Attempt): void {
    for (const key of attempt.keys) {
      const entry = this.failures.get(key);
      const i = entry?.times.lastIndexOf(attempt.time) ?? -1;
      if (entry && i >= 0) entry.times.splice(i, 1);
    }
  }

  /** Forgets the failures under a key (a successful login clears its account's count). */
  clear(key: string): void {
    this.failures.delete(key);
  }

  private prune(now: number): void {
    for (const [key, e] of this.failures) if (e.times.every((t) => t <= now - e.windowMs)) this.failures.delete(key);
    for (const key of this.failures.keys()) {
      if (this.failures.size <= this.maxKeys) break;
      this.failures.delete(key);
    }
  }
}

/**
 * The throttling key of a client address: IPv4 (IPv4-mapped IPv6 included) as
 * is, IPv6 by its /64, since one host usually holds a whole /64.
 */
export function clientKey(address: string | undefined): string {
  if (!address) return 'unknown';
  const a = address.replace(/%.*$/, '').toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  if (mapped) return mapped[1]!;
  if (!a.includes(':')) return a;
  const [head = '', tail] = a.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? left : [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}
