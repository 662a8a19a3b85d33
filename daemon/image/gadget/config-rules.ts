import type { ParsedConnection } from './parse.js';

/**
 * The rules of gadget.yaml's configuration stanzas, which snapd checks before
 * any volume (gadget.go InfoFromGadgetYaml): `defaults:` is keyed by `system`
 * or a snap id, and every `connections:` entry names a plug.
 */

const snapId = /^[a-zA-Z0-9]{32}$/;

/** Checks the keys of `defaults:`; returns the problem text or undefined. */
export function checkDefaults(keys: readonly string[]): string | undefined {
  for (const key of keys) {
    if (key !== 'system' && !snapId.test(key)) {
      return `default stanza not keyed by "system" or snap-id: ${key}; key it by "system" or by the 32-character snap id of the snap it configures`;
    }
  }
  return undefined;
}

/** Checks `connections:`; returns the problem text or undefined. A missing slot means the system slot of the plug's name. */
export function checkConnections(connections: readonly ParsedConnection[]): string | undefined {
  for (const [i, c] of connections.entries()) {
    if (c.plug.snapId === '' && c.plug.name === '') {
      return `gadget connection plug cannot be empty (connections[${i}]); give "plug: (<snap-id>|system):plug-name"`;
    }
  }
  return undefined;
}
