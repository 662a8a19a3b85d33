import { type Drive, listDrives } from './drives.js';
import { watchDrives } from './drive-watch.js';

/** What drive subscribers are told: what changed, and every drive now present (loop devices included). */
export interface DrivesUpdate {
  attached: Drive[];
  detached: Drive[];
  drives: Drive[];
}

/**
 * Watches drives while at least one client listens: `listeners(n)` starts or
 * stops the polling, `ready` resolves once the baseline listing is taken so a
 * drive attached after the subscription is acknowledged is never missed.
 */
export class DriveEvents {
  private controller: AbortController | null = null;
  private baseline: Promise<void> = Promise.resolve();

  constructor(
    private readonly emit: (update: DrivesUpdate) => void,
    private readonly intervalMs = 1000,
  ) {}

  /** Call whenever the number of subscribed clients may have changed; resolves once watching (if any) has its baseline. */
  listeners(count: number): Promise<void> {
    if (count > 0 && !this.controller) {
      const controller = (this.controller = new AbortController());
      let ready!: () => void;
      this.baseline = new Promise((resolve) => (ready = resolve));
      const list = async (options: Parameters<typeof listDrives>[0]) => {
        try {
          return await listDrives(options);
        } finally {
          ready();
        }
      };
      void watchDrives(
        { includeLoop: true, intervalMs: this.intervalMs },
        (change, drives) => this.emit({ attached: change.attached, detached: change.detached, drives }),
        controller.signal,
        list,
      ).finally(ready);
    } else if (count === 0 && this.controller) {
      this.controller.abort();
      this.controller = null;
    }
    return this.baseline;
  }

  close(): void {
    void this.listeners(0);
  }
}
