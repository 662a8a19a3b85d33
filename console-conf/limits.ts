import { MAX_SSH_KEY_LINE_BYTES } from '../common/ssh-key.js';

/**
 * Every bound console-conf puts on what it reads, in one table: the error
 * messages name these values, and the README lists them.
 */
export const LIMITS = {
  /** SSH keys taken from one account or key source (SSO, gh:, lp:) */
  maxKeys: 100,
  /** bytes in one SSH key line, comment included (the store's limit too) */
  maxKeyLineBytes: MAX_SSH_KEY_LINE_BYTES,
  /** bytes in one reply of the SSO, GitHub or Launchpad key lookup (100 keys of the longest kind fit) */
  maxKeyReplyBytes: 2 * 1024 * 1024,
  /** bytes in the --config file and in the first-boot file */
  maxYamlFileBytes: 64 * 1024,
  /** the yaml package's maxAliasCount: how far aliases (*name) may expand */
  maxYamlAliasCount: 100,
  /** nesting of mappings and lists in the --config and first-boot files */
  maxYamlDepth: 64,
  /** bytes in the journal of an interrupted creation (it holds authorized_keys) */
  maxJournalBytes: 4 * 1024 * 1024,
  /** bytes in the marker */
  maxMarkerBytes: 64 * 1024,
  /** bytes in one user database file (passwd, group, shadow) */
  maxUserDbBytes: 16 * 1024 * 1024,
} as const;

/** A byte count as the messages show it: "16 KiB", "2 MiB", or bytes when not a round unit. */
export function formatBytes(n: number): string {
  if (n >= 1024 * 1024 && n % (1024 * 1024) === 0) return `${n / (1024 * 1024)} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} bytes`;
}
