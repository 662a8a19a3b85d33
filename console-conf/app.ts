/** The console-conf flow: marker check, resume, headless first boot, then the interactive screens. */
import type { FetchFn } from './http-get.js';
import type { Backend, ConsoleConfConfig } from './config.js';
import { message } from './app-messages.js';
import type { FirstBoot } from './first-boot.js';
import { readFirstBootFile } from './first-boot-file.js';
import { hostKeyFingerprints } from './host-keys.js';
import { parseIdentity } from './identity-spec.js';
import { readMarker, type Owner } from './marker.js';
import { renderNetplanFragment } from './network-config.js';
import { NetworkFlow } from './network-flow.js';
import { applyNetplan, hostAddresses, listInterfaces, waitForAddress, writeNetplan, type AddressSource } from './network-edge.js';
import { createOwner, type OwnerDeps } from './owner.js';
import { doneScreen } from './screens/done.js';
import { identityScreen } from './screens/identity.js';
import { welcomeScreen } from './screens/welcome.js';
import { PromptAborted, type Terminal } from './tui/terminal.js';
import { resumeDirect } from './users-direct.js';
import { adoptManaged, type SnapdClient } from './users-snapd.js';

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

class App {
  private readonly addrs: AddressSource;
  private readonly watch = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private readonly network: NetworkFlow;

  constructor(private readonly d: AppDeps) {
    this.addrs = d.addresses ?? hostAddresses;
    this.network = new NetworkFlow({ root: d.root, term: d.term, netplanApply: d.config.netplanApply, addresses: this.addrs, netWaitMs: d.netWaitMs });
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
    if (this.d.snapd) {
      try {
        const adopted = await adoptManaged(root, this.d.snapd);
        if (adopted) {
          await this.finish(adopted, 'This device is already managed');
          return 0;
        }
      } catch {
        // snapd not answering yet: the identity step reports it when it matters
      }
    }
    if (this.d.backend === 'direct') {
      try {
        const resumed = await resumeDirect(root);
        if (resumed) {
          await this.finish(resumed, 'Done - the interrupted setup is finished');
          return 0;
        }
      } catch (err) {
        term.show(welcomeScreen(`cannot finish the interrupted setup: ${message(err)}`));
        return 1;
      }
    }
    let problem: string | undefined;
    const fb = await readFirstBootFile(root).catch((err: unknown) => {
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
        if (o) await this.finish(o, 'Another console finished the setup');
        return 0;
      }
      throw err;
    }
  }

  private async headless(fb: FirstBoot & { path: string }): Promise<void> {
    const { term } = this.d;
    term.show({ title: 'Setting up this device', body: [`Following the first-boot file ${fb.path}; no input is needed.`] });
    if (fb.network) {
      term.note('Applying the network configuration...');
      await writeNetplan(this.d.root, renderNetplanFragment(fb.network));
      await applyNetplan(this.d.config.netplanApply);
      // wait only for interfaces the device has; a fragment may name ones other models have
      const present = new Set((await listInterfaces(this.d.root, this.addrs)).map((i) => i.name));
      const named = ['ethernets', 'wifis'].flatMap((k) => Object.keys((fb.network?.[k] as object | undefined) ?? {}));
      const names = named.filter((n) => present.has(n));
      if (names.length) await waitForAddress(names, this.addrs, this.d.netWaitMs ?? 30_000);
    }
    term.note('Creating the user...');
    const { owner, created } = await createOwner(this.ownerDeps(fb.ssoUrl), fb.identity, fb.username);
    await this.finish(owner, created ? undefined : 'Another console finished the setup');
  }

  private async interactive(firstProblem?: string): Promise<number> {
    const { term } = this.d;
    const signal = this.watch.signal;
    term.show(welcomeScreen(firstProblem));
    await term.prompt('Press Enter to configure.', signal);
    for (;;) {
      await this.network.run(signal);
      const owner = await this.identityStep(signal);
      if (!owner) continue;
      await this.finish(owner.owner, owner.created ? undefined : 'Another console finished the setup');
      return 0;
    }
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

  /**
   * Shows the login details and keeps them up until Enter: when console-conf
   * exits, getty takes the console and a VT is cleared.
   */
  private async finish(owner: Owner, title?: string): Promise<void> {
    this.dispose(); // our own marker must not cut the done screen short
    await this.showDetails(owner, title);
    await this.d.term.prompt('Press Enter to continue to the login prompt.');
  }

  private async showDetails(owner: Owner, title?: string): Promise<void> {
    const ifaces = await listInterfaces(this.d.root, this.addrs).catch(() => []);
    const addresses = ifaces.flatMap((i) => i.addresses);
    const fps = await hostKeyFingerprints(this.d.root);
    this.d.term.show(doneScreen(owner, addresses, fps, title));
  }
}
