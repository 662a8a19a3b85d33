import { join, resolve } from 'node:path';

/**
 * The test vectors, kept in the repository (test/vectors) so that a clone
 * passes its tests with nothing beside it: real, public assertions to test
 * against (see test/vectors/README.md for where each comes from).
 */
export const vectorsDir = resolve(import.meta.dirname, '..', 'vectors');
/** The trust chains: Canonical's root, the generic chain, snapd's test keys, a nested brand. */
export const chainsDir = join(vectorsDir, 'chains');
