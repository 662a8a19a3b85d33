import { open } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';

/** Bytes per read and per socket write. */
const chunkBytes = 1 << 20;

/** A response that ended before the whole range was sent: the client went away. */
class ClientGone extends Error {}

/**
 * Sends bytes [start, end] (end inclusive, as in Content-Range) of a file on
 * `res`, reading into two buffers it reuses: one is read while the other is
 * written. A stream would allocate a new buffer for every read, and in the
 * daemon (a large heap) the garbage collector then ran for a third of a
 * 256 MiB download's time. A client that goes away ends it quietly.
 */
export async function sendFileRange(res: ServerResponse, path: string, start: number, end: number): Promise<void> {
  const file = await open(path, 'r');
  let gone: () => void = () => {};
  const closed = new Promise<never>((_, reject) => {
    gone = () => reject(new ClientGone());
    res.once('close', gone);
  });
  closed.catch(() => {});
  try {
    const buffers = [Buffer.allocUnsafeSlow(chunkBytes), Buffer.allocUnsafeSlow(chunkBytes)];
    let written: Promise<void> = Promise.resolve();
    for (let at = start, turn = 0; at <= end; turn ^= 1) {
      const buffer = buffers[turn]!;
      const { bytesRead } = await file.read(buffer, 0, Math.min(chunkBytes, end + 1 - at), at);
      if (bytesRead === 0) throw new Error(`${path} ended at byte ${at}, before byte ${end}: the blob was truncated`);
      at += bytesRead;
      // the other buffer's write is done before this one starts, so it can be read into next
      await Promise.race([written, closed]);
      written = new Promise<void>((resolve, reject) => res.write(buffer.subarray(0, bytesRead), (err) => (err ? reject(err) : resolve())));
      // awaited on the next turn; until then a client gone away must not be an unhandled rejection
      written.catch(() => {});
    }
    await Promise.race([written, closed]);
    res.end();
  } catch (err) {
    if (err instanceof ClientGone || res.destroyed) return;
    // a short body, not one that looks complete
    res.destroy();
    throw err;
  } finally {
    res.off('close', gone);
    await file.close();
  }
}
