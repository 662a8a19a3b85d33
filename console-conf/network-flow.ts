/** The network screens: pick an interface, choose DHCP / static / disabled, write and apply netplan, wait for an address. */
import { message } from './app-messages.js';
import { checkStatic, renderNetplan, type IfaceChoice } from './network-config.js';
import { applyNetplan, listInterfaces, waitForAddress, writeNetplan, type AddressSource } from './network-edge.js';
import { interfaceScreen, networkScreen, staticScreen } from './screens/network.js';
import { PATHS, underRoot } from './paths.js';
import type { Terminal } from './tui/terminal.js';

export interface NetworkFlowDeps {
  root: string;
  term: Terminal;
  netplanApply: string[];
  addresses: AddressSource;
  netWaitMs?: number;
}

export class NetworkFlow {
  private readonly choices: Record<string, IfaceChoice> = {};
  private readonly addrs: AddressSource;

  constructor(private readonly d: NetworkFlowDeps) {
    this.addrs = d.addresses;
  }

  /** Runs the network screen until the owner goes on (Enter or "skip"). */
  async run(signal: AbortSignal): Promise<void> {
    const { term } = this.d;
    let problem: string | undefined;
    for (;;) {
      const ifaces = await listInterfaces(this.d.root, this.addrs);
      term.show(networkScreen(ifaces, problem, underRoot(this.d.root, PATHS.sysNet)));
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
      await applyNetplan(this.d.netplanApply);
    } catch (err) {
      return message(err);
    }
    if (choice.method === 'disabled') return undefined;
    const wait = this.d.netWaitMs ?? 30_000;
    term.note(`Waiting up to ${Math.round(wait / 1000)} s for an address on ${name}...`);
    const got = await waitForAddress([name], this.addrs, wait);
    return got.length ? undefined : `${name} has no address after ${Math.round(wait / 1000)} s; check the cable and the settings, or press Enter to continue without network`;
  }

}
