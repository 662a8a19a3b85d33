import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { driveApp } from './app-driver.js';
import { makeRoot } from './helpers.js';
import { listInterfaces } from '../../console-conf/network-edge.js';

async function fakeSys(root: string) {
  for (const [name, state] of [['eth0', 'up'], ['enp3s0', 'down'], ['wlan0', 'dormant'], ['lo', 'unknown']]) {
    await mkdir(join(root, 'sys/class/net', name), { recursive: true });
    await writeFile(join(root, 'sys/class/net', name, 'operstate'), `${state}\n`);
  }
  await mkdir(join(root, 'sys/class/net/wlan0/wireless'));
}

test('interfaces come from ROOT/sys/class/net with their state, addresses and whether they are wireless', async (t) => {
  const { root, cleanup } = await makeRoot({ sysNet: false });
  t.after(cleanup);
  await fakeSys(root);
  assert.deepEqual(await listInterfaces(root, () => ({ eth0: ['192.0.2.7'] })), [
    { name: 'enp3s0', state: 'down', addresses: [], wireless: false },
    { name: 'eth0', state: 'up', addresses: ['192.0.2.7'], wireless: false },
    { name: 'wlan0', state: 'dormant', addresses: [], wireless: true },
  ]);
});

test('the network screen refuses a bad static address, then applies DHCP, writes netplan and waits for an address', async (t) => {
  const { root, cleanup } = await makeRoot({ sysNet: false });
  t.after(cleanup);
  await fakeSys(root);
  const applied = join(root, 'applied');
  let dhcpDone = false;
  const app = driveApp(
    root,
    { netplanApply: ['sh', '-c', `echo applied >> ${applied}`] },
    { addresses: () => ({ eth0: ['192.0.2.7'], ...(dhcpDone ? { enp3s0: ['198.51.100.4'] } : {}) }), netWaitMs: 2000 },
  );
  t.after(() => app.stop());
  await app.waitFor('Press Enter to configure.');
  app.type('');
  await app.waitFor('[1] enp3s0       down     no address');
  await app.waitFor('[2] eth0         up       192.0.2.7');
  app.type('9');
  await app.waitFor('!! cannot use "9": type a number from 1 to 3, or press Enter to continue');
  app.type('3');
  await app.waitFor('!! cannot set up wlan0 here: wireless networks need a first-boot file with a netplan "wifis" section');
  app.type('1');
  await app.waitFor('Method:');
  app.type('2');
  app.type('10.0.0.5/24');
  app.type('10.0.1.1');
  app.type('');
  await app.waitFor('!! cannot use gateway "10.0.1.1": it is outside 10.0.0.5/24 for enp3s0; use a gateway on the same subnet');
  app.type('1');
  await app.waitFor('Waiting up to 2 s for an address on enp3s0...');
  dhcpDone = true;
  await app.waitFor('[1] enp3s0       down     198.51.100.4');
  assert.equal(await readFile(applied, 'utf8'), 'applied\n');
  const netplan = join(root, 'etc/netplan/00-console-conf.yaml');
  assert.equal(await readFile(netplan, 'utf8'), '# written by console-conf\nnetwork:\n  version: 2\n  ethernets:\n    enp3s0:\n      dhcp4: true\n      dhcp6: true\n');
  assert.equal((await stat(netplan)).mode & 0o777, 0o600);
  app.type('skip');
  await app.waitFor('Email:');
});

test('a failing netplan apply and an interface that gets no address are reported on the network screen', async (t) => {
  const { root, cleanup } = await makeRoot({ sysNet: false });
  t.after(cleanup);
  await fakeSys(root);
  const failing = driveApp(root, { netplanApply: ['sh', '-c', 'echo "bad yaml" >&2; exit 1'] }, { addresses: () => ({}) });
  t.after(() => failing.stop());
  await failing.waitFor('Press Enter to configure.');
  failing.type('');
  failing.type('1');
  failing.type('1');
  await failing.waitFor('!! cannot apply the network configuration with "sh -c echo "bad yaml" >&2; exit 1": bad yaml; fix the settings or continue without network');

  const { root: root2, cleanup: c2 } = await makeRoot({ sysNet: false });
  t.after(c2);
  await fakeSys(root2);
  const silent = driveApp(root2, {}, { addresses: () => ({}), netWaitMs: 100 });
  t.after(() => silent.stop());
  await silent.waitFor('Press Enter to configure.');
  silent.type('');
  silent.type('1');
  silent.type('2');
  silent.type('10.0.0.5/24');
  silent.type('10.0.0.1');
  silent.type('1.1.1.1');
  await silent.waitFor('!! enp3s0 has no address after 0 s; check the cable and the settings, or press Enter to continue without network');
  assert.match(await readFile(join(root2, 'etc/netplan/00-console-conf.yaml'), 'utf8'), /via: 10\.0\.0\.1/);
});
