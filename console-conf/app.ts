/** The console-conf flow: marker check, resume, headless first boot, then the interactive screens. */
import { readFile } from 'node:fs/promises';
import type { FetchFn } from '../daemon/store/sso-keys.js';
import type { Backend, ConsoleConfConfig } from './config.js';
import { isCoreforgeError } from './errors.js';
import { parseFirstBoot, type FirstBoot } from './first-boot.js';
import { hostKeyFingerprints } from './host-keys.js';
import { parseIdentity } from './identity-spec.js';
import { readMarker, type Owner } from './marker.js';
import { checkStatic, renderNetplan, type IfaceChoice } from './network-config.js';
import { applyNetplan, hostAddresses, listInterfaces, waitForAddress, writeNetplan, type AddressSource } from './network-edge.js';
import { createOwner, type OwnerDeps } from './owner.js';
import { PATHS, underRoot } from './paths.js';
import { doneScreen } from './screens/done.js';
import { identityScreen } from './screens/identity.js';
import { interfaceScreen, networkScreen, staticScreen } from './screens/network.js';
import { welcomeScreen } from './screens/welcome.js';
import { PromptAborted, type Terminal } from './tui/terminal.js';
import { resumeDirect } from './users-direct.js';
import type { SnapdClient } from './users-snapd.js';

export interface AppDeps {
  root: string;
  config: ConsoleConfConfig;
  backend: Backend;
  term: Terminal;
  snapd?: SnapdClient;
  fetch?: FetchFn;
  addresses?: AddressSource;
  /** how long to wait for an address after applying netplan */
  netWaitMs?: number;
  /** how often to look for a marker written by another console */
  markerPollMs?: number;
  now?: () => Date;
}

/** Runs console-conf to the end; resolves with the process exit code. */
export async function runConsoleConf(deps: AppDeps): Promise<number> {
  const app = new App(deps);
  try {
    return await app.run();
  } finally {
    app.dispose();
  }
}

const message = (err: unknown) => (isCoreforgeError(err) ? err.message : `unexpected error: ${(err as Error).message ?? String(err)}`);

class App {
  private readonly addrs: AddressSource;
  private readonly watch = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private readonly choices: Record<string, IfaceChoice> = {};

  constructor(private readonly d: AppDeps) {
    this.addrs = d.addresses ?? hostAddresses;
  }

  dispose(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private ownerDeps(ssoUrl?: string): OwnerDeps {
    const { config: c } = this.d;
    return {
      root: this.d.root,
      backend: this.d.backend,
      snapd: this.d.snapd,
      fetch: this.d.fetch,
      now: this.d.now,
      urls: { ssoUrl: ssoUrl ?? c.ssoUrl, githubUrl: c.githubUrl, launchpadUrl: c.launchpadUrl },
    };
  }

  async run(): Promise<number> {
    const { term, root } = this.d;
    const owner = await readMarker(root);
    if (owner) {
      await this.showDetails(owner, 'This device is already set up');
      return 0;
    }
    if (this.d.backend === 'direct') {
      try {
        const resumed = await resumeDirect(root);
        if (resumed) {
          await this.showDetails(resumed);
          return 0;
        }
      } catch (err) {
        term.show(welcomeScreen(`cannot finish the interrupted setup: ${message(err)}`));
        return 1;
      }
    }
    let problem: string | undefined;
    const fb = await this.readFirstBoot().catch((err: unknown) => {
      problem = `${message(err)}. Continuing interactively.`;
      return undefined;
    });
    if (fb) {
      try {
        await this.headless(fb);
        return 0;
      } catch (err) {
        problem = `the first-boot file could not be used: ${message(err)}. Continuing interactively.`;
      }
    }
    this.timer = setInterval(() => {
      readMarker(root).then((o) => o && this.watch.abort(), () => {});
    }, this.d.markerPollMs ?? 1000);
    try {
      return await this.interactive(problem);
    } catch (err) {
      if (err instanceof PromptAborted) {
        const o = await readMarker(root);
        if (o) await this.showDetails(o, 'Another console finished the setup');
        return 0;
      }
      throw err;
    }
  }

  private async readFirstBoot(): Promise<FirstBoot | undefined> {
    let text: string;
    try {
      text = await readFile(underRoot(this.d.root, PATHS.firstBoot), 'utf8');
    } catch {
      return undefined;
    }
    return parseFirstBoot(text, `/${PATHS.firstBoot}`);
  }

  private async headless(fb: FirstBoot): Promise<void> {
    const { term } = this.d;
    term.show({ title: 'Setting up this device', body: [`Following the first-boot file /${PATHS.firstBoot}; no input is needed.`] });
    if (fb.network) {
      term.note('Applying the network configuration...');
      const { stringify } = await import('yaml');
      await writeNetplan(this.d.root, '# written by console-conf from the first-boot file\n' + stringify({ network: fb.network }));
      await applyNetplan(this.d.config.netplanApply);
      // wait only for interfaces the device has; a fragment may name ones other models have
      const present = new Set((await listInterfaces(this.d.root, this.addrs)).map((i) => i.name));
      const named = ['ethernets', 'wifis'].flatMap((k) => Object.keys((fb.network?.[k] as object | undefined) ?? {}));
      const names = named.filter((n) => present.has(n));
      if (names.length) await waitForAddress(names, this.addrs, this.d.netWaitMs ?? 30_000);
    }
    term.note('Creating the user...');
    const { owner, created } = await createOwner(this.ownerDeps(fb.ssoUrl), fb.identity, fb.username);
    await this.showDetails(owner, created ? undefined : 'Another console finished the setup');
  }

  private async interactive(firstProblem?: string): Promise<number> {
    const { term } = this.d;
    const signal = this.watch.signal;
    term.show(welcomeScreen(firstProblem));
    await term.prompt('Press Enter to configure.', signal);
    for (;;) {
      await this.networkStep(signal);
      const owner = await this.identityStep(signal);
      if (!owner) continue;
      await this.showDetails(owner.owner, owner.created ? undefined : 'Another console finished the setup');
      if (owner.created) await term.prompt('Press Enter to finish.', signal).catch(() => '');
      return 0;
    }
  }

  private async networkStep(signal: AbortSignal): Promise<void> {
    const { term } = this.d;
    let problem: string | undefined;
    for (;;) {
      const ifaces = await listInterfaces(this.d.root, this.addrs);
      term.show(networkScreen(ifaces, problem));
      problem = undefined;
      const answer = (await term.prompt('Choice:', signal)).trim().toLowerCase();
      if (answer === '' || answer === 'skip') return;
      const iface = ifaces[Number(answer) - 1];
      if (!/^\d+$/.test(answer) || !iface) {
        problem = `cannot use "${answer}": type a number from 1 to ${ifaces.length}, or press Enter to continue`;
        continue;
      }
      if (iface.wireless) {
        problem = `cannot set up ${iface.name} here: wireless networks need a first-boot file with a netplan "wifis" section`;
        continue;
      }
      problem = await this.configureInterface(iface.name, signal);
    }
  }

  /** Asks for the method of one interface and applies it; returns a problem to show, if any. */
  private async configureInterface(name: string, signal: AbortSignal): Promise<string | undefined> {
    const { term } = this.d;
    let problem: string | undefined;
    for (;;) {
      const iface = (await listInterfaces(this.d.root, this.addrs)).find((i) => i.name === name);
      if (!iface) return `cannot find ${name} any more`;
      term.show(interfaceScreen(iface, problem));
      const pick = (await term.prompt('Method:', signal)).trim();
      let choice: IfaceChoice;
      if (pick === '') return undefined;
      if (pick === '1') choice = { method: 'dhcp' };
      else if (pick === '3') choice = { method: 'disabled' };
      else if (pick === '2') {
        term.show(staticScreen(name));
        const address = await term.prompt('Address/prefix:', signal);
        const gateway = await term.prompt('Gateway:', signal);
        const dns = await term.prompt('DNS servers:', signal);
        try {
          choice = checkStatic(name, address, gateway, dns);
        } catch (err) {
          problem = message(err);
          continue;
        }
      } else {
        problem = `cannot use "${pick}": type 1, 2 or 3`;
        continue;
      }
      return this.apply(name, choice);
    }
  }

  private async apply(name: string, choice: IfaceChoice): Promise<string | undefined> {
    const { term } = this.d;
    const next = { ...this.choices, [name]: choice };
    term.note(`Applying the settings for ${name}...`);
    try {
      await writeNetplan(this.d.root, renderNetplan(next));
      Object.assign(this.choices, next);
      await applyNetplan(this.d.config.netplanApply);
    } catch (err) {
      return message(err);
    }
    if (choice.method === 'disabled') return undefined;
    const wait = this.d.netWaitMs ?? 30_000;
    term.note(`Waiting up to ${Math.round(wait / 1000)} s for an address on ${name}...`);
    const got = await waitForAddress([name], this.addrs, wait);
    return got.length ? undefined : `${name} has no address after ${Math.round(wait / 1000)} s; check the cable and the settings, or press Enter to continue without network`;
  }

  private async identityStep(signal: AbortSignal): Promise<{ owner: Owner; created: boolean } | undefined> {
    const { term } = this.d;
    let problem: string | undefined;
    for (;;) {
      term.show(identityScreen(this.d.backend, problem));
      const answer = (await term.prompt('Email:', signal)).trim();
      if (answer.toLowerCase() === 'back') return undefined;
      try {
        const spec = parseIdentity(answer);
        term.note('Looking up the account...');
        return await createOwner(this.ownerDeps(), spec);
      } catch (err) {
        if (err instanceof PromptAborted) throw err;
        problem = message(err);
      }
    }
  }

  private async showDetails(owner: Owner, title?: string): Promise<void> {
    const ifaces = await listInterfaces(this.d.root, this.addrs).catch(() => []);
    const addresses = ifaces.flatMap((i) => i.addresses);
    const fps = await hostKeyFingerprints(this.d.root);
    this.d.term.show(doneScreen(owner, addresses, fps, title));
  }
}
