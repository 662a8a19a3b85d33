import { randomUUID } from 'node:crypto';
import { type Clock, systemClock } from '../clock.js';

/**
 * Holds passphrases (and other secrets a change needs: a first-boot file with
 * network passwords) in memory between an API request and the change task
 * that uses them: task data is persisted in sqlite, so it carries only a
 * token. A passphrase is taken once and forgotten; one never taken (its
 * change was aborted before the task ran) is forgotten after its time to
 * live; a daemon restart forgets them all.
 */
export class PassphraseVault {
  private readonly held = new Map<string, string>();

  constructor(
    private readonly ttlMs = 10 * 60_000,
    /** Times each secret's life; tests pass their own. */
    private readonly clock: Clock = systemClock,
  ) {}

  /** Keeps a passphrase and returns the token that fetches it. */
  put(passphrase: string, ttlMs = this.ttlMs): string {
    const token = randomUUID();
    this.held.set(token, passphrase);
    this.clock.after(ttlMs, () => this.held.delete(token));
    return token;
  }

  /** Returns a secret without forgetting it (a change whose every task needs it; forget() at its end). */
  peek(token: unknown): string | undefined {
    return typeof token === 'string' ? this.held.get(token) : undefined;
  }

  /** Returns the passphrase once; undefined when unknown or already taken. */
  take(token: unknown): string | undefined {
    if (typeof token !== 'string') return undefined;
    const value = this.held.get(token);
    this.held.delete(token);
    return value;
  }

  forget(token: string): void {
    this.held.delete(token);
  }

  clear(): void {
    this.held.clear();
  }
}
