// A snap file's digest: SHA3-384 in snapd's form (base64url, no padding), as
// snap-revision's snap-sha3-384 and the store's downloads carry it. The one
// function for a file on disk (the store's add, the build's local snaps); a
// download hashes as it receives, with the same algorithm and encoding.
import { digestInWorker } from '../image/digest-worker.js';

/** The algorithm of a snap digest, as node:crypto names it. */
export const snapDigestAlgorithm = 'sha3-384';
/** The encoding of a snap digest (snapd's). */
export const snapDigestEncoding = 'base64url';

/** SHA3-384 and size of a snap file, hashed on a worker thread (snaps are hundreds of MiB). */
export async function snapFileDigest(path: string, signal?: AbortSignal): Promise<{ sha3_384: string; size: number }> {
  const { digest, size } = await digestInWorker({ path, algorithm: snapDigestAlgorithm }, signal);
  return { sha3_384: digest.toString(snapDigestEncoding), size };
}
