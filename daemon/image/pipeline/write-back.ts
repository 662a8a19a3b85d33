import { fdatasync } from 'node:fs';
import { promisify } from 'node:util';

/**
 * Edge module: writes an image's data back to disk while the image is still
 * being written. A build host with gigabytes of RAM starts no write-back of
 * its own before written data is 30 s old (vm.dirty_expire_centisecs), so
 * the fsync that ends a build had all of the image to write (275 MiB for the
 * UC20 pc image, half a second) with nothing else left to do. Flushing again
 * and again in the thread pool while the filesystem tools fill the image
 * moves that disk time under the tools' own time.
 */

const datasync = promisify(fdatasync);

/** A flush shorter than this found little to write: the tools are not writing much, so pause before the next. */
const quickFlushMs = 5;
/** That pause: an idle image is not flushed in a busy loop. */
const idlePauseMs = 20;

export interface WriteBack {
  /** Stops flushing, then flushes what is left once; rejects with the first flush error (ENOSPC, EIO). */
  finish(): Promise<void>;
  /** Stops flushing (a failed build); resolves once the flush in flight is done, whatever it gave. */
  stop(): Promise<void>;
}

/** Starts flushing the written data of the open file `fd` until finish() or stop(). */
export function startWriteBack(fd: number): WriteBack {
  let stopping = false;
  let wake = () => {};
  let failure: unknown;
  const pause = () => new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, idlePauseMs);
    wake = () => {
      clearTimeout(timer);
      resolve();
    };
  });
  const loop = (async () => {
    while (!stopping) {
      const started = performance.now();
      try {
        await datasync(fd);
      } catch (err) {
        failure = err;
        return;
      }
      if (!stopping && performance.now() - started < quickFlushMs) await pause();
    }
  })();
  const stop = async () => {
    stopping = true;
    wake();
    await loop;
  };
  return {
    async finish() {
      await stop();
      if (failure !== undefined) throw failure;
      await datasync(fd);
    },
    stop,
  };
}
