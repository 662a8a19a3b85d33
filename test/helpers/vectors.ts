import { resolve } from 'node:path';

/**
 * The shared test vectors: `shared/vectors` beside the repository (as in the
 * workplace and in CI), or wherever COREFORGE_VECTORS points.
 */
export const vectorsDir = process.env.COREFORGE_VECTORS ?? resolve(import.meta.dirname, '..', '..', '..', 'shared', 'vectors');
