/** Pure network choices: static address validation and the netplan document console-conf writes. */
import { stringify } from 'yaml';
import { ccError } from './errors.js';
import { ipFamily, parseIPv4 } from './ip.js';

export type IfaceChoice =
  | { method: 'dhcp' }
  | { method: 'static'; address: string; gateway?: string; dns: string[] }
  | { method: 'disabled' };

/** Validates the static settings typed for `iface`; throws invalid-network naming the bad field. */
export function checkStatic(iface: string, address: string, gateway: string, dns: string): IfaceChoice {
  const fail = (why: string, fix: string) => ccError('invalid-network', `cannot use ${why} for ${iface}; ${fix}`);
  const m = /^([^/\s]+)\/(\d{1,3})$/.exec(address.trim());
  const ip = m?.[1] ?? '';
  const family = ipFamily(ip);
  const prefix = Number(m?.[2]);
  if (!m || family === 0) throw fail(`address "${address.trim()}": it is not ADDRESS/PREFIX`, 'write e.g. 192.168.1.20/24');
  if (prefix < 1 || prefix > (family === 4 ? 32 : 128)) {
    throw fail(`address "${address.trim()}": the prefix must be 1-${family === 4 ? 32 : 128}`, 'write e.g. 192.168.1.20/24');
  }
  const gw = gateway.trim();
  if (gw !== '') {
    if (ipFamily(gw) !== family) throw fail(`gateway "${gw}": it is not an IPv${family} address`, 'leave it empty or write e.g. 192.168.1.1');
    if (family === 4 && !sameSubnet(ip, gw, prefix)) {
      throw fail(`gateway "${gw}": it is outside ${ip}/${prefix}`, 'use a gateway on the same subnet');
    }
    if (gw === ip) throw fail(`gateway "${gw}": it is the device's own address`, 'use the router\'s address');
  }
  const servers = dns.split(/[\s,]+/).filter((s) => s !== '');
  for (const s of servers) {
    if (ipFamily(s) === 0) throw fail(`DNS server "${s}": it is not an IP address`, 'write addresses separated by commas');
  }
  return { method: 'static', address: `${ip}/${prefix}`, gateway: gw || undefined, dns: servers };
}

function sameSubnet(a: string, b: string, prefix: number): boolean {
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return ((parseIPv4(a)! & mask) >>> 0) === ((parseIPv4(b)! & mask) >>> 0);
}

/** The netplan YAML for the chosen interfaces (ethernets only). */
export function renderNetplan(choices: Record<string, IfaceChoice>): string {
  const ethernets: Record<string, unknown> = {};
  for (const [name, c] of Object.entries(choices)) {
    if (c.method === 'dhcp') ethernets[name] = { dhcp4: true, dhcp6: true };
    else if (c.method === 'disabled') ethernets[name] = { dhcp4: false, dhcp6: false, 'link-local': [], optional: true };
    else {
      const e: Record<string, unknown> = { dhcp4: false, dhcp6: false, addresses: [c.address] };
      if (c.gateway) e.routes = [{ to: 'default', via: c.gateway }];
      if (c.dns.length > 0) e.nameservers = { addresses: c.dns };
      ethernets[name] = e;
    }
  }
  return '# written by console-conf\n' + stringify({ network: { version: 2, ethernets } });
}

/** The netplan YAML for a fragment taken from the first-boot file (the content under `network:`). */
export function renderNetplanFragment(fragment: Record<string, unknown>): string {
  return '# written by console-conf from the first-boot file\n' + stringify({ network: fragment });
}
