// daemon/asserts-db: the assertion database in state.db (edge module over the pure daemon/asserts).

export { SqliteAssertionDatabase, describeAssertion, type AssertionDatabase, type AssertDbErrorKind } from './database.js';
export { builtinRootsDir, loadRoots } from './roots.js';
export { verifyAssertions, type AssertionVerdict } from './verify.js';
