import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkStatic, renderNetplan } from '../../console-conf/network-config.js';
import { ipFamily } from '../../console-conf/ip.js';

test('IPv4 and IPv6 addresses are told apart and garbage is neither', () => {
  assert.equal(ipFamily('10.0.0.1'), 4);
  assert.equal(ipFamily('fd00::1'), 6);
  assert.equal(ipFamily('2001:db8:0:0:0:0:0:1'), 6);
  for (const s of ['10.0.0', '10.0.0.256', '01.2.3.4', '1::2::3', 'fe80::1%eth0', 'host', '']) assert.equal(ipFamily(s), 0, s);
});

test('a static address with gateway and DNS becomes a netplan ethernet with a default route', () => {
  const c = checkStatic('eth0', '192.168.1.20/24', '192.168.1.1', '1.1.1.1, 9.9.9.9');
  assert.deepEqual(c, { method: 'static', address: '192.168.1.20/24', gateway: '192.168.1.1', dns: ['1.1.1.1', '9.9.9.9'] });
  assert.equal(
    renderNetplan({ eth0: c, eth1: { method: 'dhcp' }, wlan0: { method: 'disabled' } }),
    [
      '# written by console-conf',
      'network:',
      '  version: 2',
      '  ethernets:',
      '    eth0:',
      '      dhcp4: false',
      '      dhcp6: false',
      '      addresses:',
      '        - 192.168.1.20/24',
      '      routes:',
      '        - to: default',
      '          via: 192.168.1.1',
      '      nameservers:',
      '        addresses:',
      '          - 1.1.1.1',
      '          - 9.9.9.9',
      '    eth1:',
      '      dhcp4: true',
      '      dhcp6: true',
      '    wlan0:',
      '      dhcp4: false',
      '      dhcp6: false',
      '      link-local: []',
      '      optional: true',
      '',
    ].join('\n'),
  );
});

test('the gateway and DNS may be left empty', () => {
  assert.deepEqual(checkStatic('eth0', 'fd00::5/64', '', ''), { method: 'static', address: 'fd00::5/64', gateway: undefined, dns: [] });
});

const bad: [string, string, string, string][] = [
  ['192.168.1.20', '', '', 'address "192.168.1.20": it is not ADDRESS/PREFIX for eth0; write e.g. 192.168.1.20/24'],
  ['192.168.1.300/24', '', '', 'address "192.168.1.300/24": it is not ADDRESS/PREFIX for eth0; write e.g. 192.168.1.20/24'],
  ['192.168.1.20/33', '', '', 'address "192.168.1.20/33": the prefix must be 1-32 for eth0; write e.g. 192.168.1.20/24'],
  ['192.168.1.20/24', '10.0.0.1', '', 'gateway "10.0.0.1": it is outside 192.168.1.20/24 for eth0; use a gateway on the same subnet'],
  ['192.168.1.20/24', 'router', '', 'gateway "router": it is not an IPv4 address for eth0; leave it empty or write e.g. 192.168.1.1'],
  ['192.168.1.20/24', 'fd00::1', '', 'gateway "fd00::1": it is not an IPv4 address for eth0; leave it empty or write e.g. 192.168.1.1'],
  ['192.168.1.20/24', '192.168.1.20', '', 'gateway "192.168.1.20": it is the device\'s own address for eth0; use the router\'s address'],
  ['192.168.1.20/24', '', '1.1.1.1 dns.example', 'DNS server "dns.example": it is not an IP address for eth0; write addresses separated by commas'],
];
for (const [address, gateway, dns, why] of bad) {
  test(`static settings ${address} / ${gateway || '-'} / ${dns || '-'} are refused`, () => {
    assert.throws(() => checkStatic('eth0', address, gateway, dns), { kind: 'invalid-network', message: `cannot use ${why}` });
  });
}
