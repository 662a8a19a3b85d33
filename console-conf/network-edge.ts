/** Network side effects: listing interfaces, writing and applying netplan, waiting for an address. */
import { execFile } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { networkInterfaces } from 'node:os';
import { resolve } from 'node:path';
import { ccError } from './errors.js';
import { atomicWrite, exists, readText } from './fs-edge.js';
import { PATHS, underRoot, writableUnderRoot } from './paths.js';

export interface Iface {
  name: string;
  state: string;
  addresses: string[];
  wireless: boolean;
}

/** Returns host addresses per interface (os.networkInterfaces by default; tests inject). */
export type AddressSource = () => Record<string, string[]>;

/** Non-internal addresses from node, link-local IPv6 left out (not reachable by `ssh USER@IP`). */
export const hostAddresses: AddressSource = () => {
  const out: Record<string, string[]> = {};
  for (const [name, list] of Object.entries(networkInterfaces())) {
    out[name] = (list ?? []).filter((a) => !a.internal && !a.address.startsWith('fe80:')).map((a) => a.address);
  }
  return out;
};

/**
 * Interfaces from ROOT/sys/class/net, loopback left out. Under a --root
 * other than /, that is all there is: the host's own interfaces are not the
 * device's. Only on / without a sysfs (a container) does the address source
 * stand in.
 */
export async function listInterfaces(root: string, addrs: AddressSource = hostAddresses): Promise<Iface[]> {
  const sys = underRoot(root, PATHS.sysNet);
  const known = addrs();
  if (await exists(sys)) {
    const names = (await readdir(sys)).filter((n) => n !== 'lo').sort();
    return Promise.all(
      names.map(async (name) => ({
        name,
        state: (await readText(`${sys}/${name}/operstate`)).trim() || 'unknown',
        addresses: known[name] ?? [],
        wireless: await exists(`${sys}/${name}/wireless`),
      })),
    );
  }
  if (resolve(root) !== '/') return [];
  return Object.keys(known)
    .filter((n) => n !== 'lo' && (known[n]?.length ?? 0) > 0)
    .sort()
    .map((name) => ({ name, state: 'up', addresses: known[name] ?? [], wireless: false }));
}

/** Writes the netplan file under the root (0600, as netplan wants). */
export async function writeNetplan(root: string, yaml: string): Promise<string> {
  const path = await writableUnderRoot(root, PATHS.netplan);
  await atomicWrite(path, yaml, { mode: 0o600 });
  return path;
}

/** Runs the configured netplan-apply command. */
export function applyNetplan(argv: string[], timeoutMs = 120_000): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(argv[0]!, argv.slice(1), { timeout: timeoutMs }, (err, _out, stderr) => {
      if (!err) return resolve();
      const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? `${argv[0]} is not installed` : (stderr.trim().split('\n').pop() ?? err.message);
      reject(ccError('network-failed', `cannot apply the network configuration with "${argv.join(' ')}": ${why}; fix the settings or continue without network`));
    });
  });
}

/** Waits until one of `ifaces` has an address; resolves with the addresses, or [] at the timeout. */
export async function waitForAddress(ifaces: string[], addrs: AddressSource, timeoutMs: number, stepMs = 250): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const known = addrs();
    const found = ifaces.flatMap((n) => known[n] ?? []);
    if (found.length > 0 || Date.now() >= deadline) return found;
    await new Promise((r) => setTimeout(r, stepMs));
  }
}
