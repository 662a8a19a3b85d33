import type { Iface } from '../network-edge.js';
import type { Screen } from '../tui/screen.js';

/** The interface list with one numbered line per interface; `where` is where interfaces were looked for, said when there are none. */
export function networkScreen(ifaces: Iface[], problem?: string, where = '/sys/class/net'): Screen {
  const rows = ifaces.map((i, n) => {
    const addrs = i.addresses.length ? i.addresses.join(', ') : 'no address';
    return `  [${n + 1}] ${i.name.padEnd(12)} ${i.state.padEnd(8)} ${addrs}${i.wireless ? '  (wireless: not supported here)' : ''}`;
  });
  return {
    title: 'Network',
    body: [
      'The device needs a network so you can reach it over SSH and so your keys can be fetched.',
      '',
      ...(rows.length ? rows : [`  (no network interfaces found in ${where})`]),
      '',
      'Type a number to change how that interface is set up, or press Enter to go on with the current settings ("skip" goes on without network).',
    ],
    problem,
  };
}

/** The choice of method for one interface. */
export function interfaceScreen(iface: Iface, problem?: string): Screen {
  return {
    title: `Network - ${iface.name}`,
    body: [
      `Current state: ${iface.state}; addresses: ${iface.addresses.join(', ') || 'none'}.`,
      '',
      '  [1] automatic (DHCP)',
      '  [2] static address',
      '  [3] disabled',
      '',
      'Type 1, 2 or 3, or press Enter to go back.',
    ],
    problem,
  };
}

/** The static address form, filled one prompt at a time. */
export function staticScreen(iface: string, problem?: string): Screen {
  return {
    title: `Network - ${iface} - static address`,
    body: [
      'Address with prefix length, e.g. 192.168.1.20/24.',
      'Gateway: the router address, or empty for none.',
      'DNS servers: addresses separated by commas, or empty.',
    ],
    problem,
  };
}
