/**
 * console-conf: time from submitting the email on the identity screen to the
 * done screen, with a local SSO on 127.0.0.1 and a temporary root (direct
 * backend: SSO lookup, validation, passwd/shadow/group, home, keys, sudoers,
 * marker). Target: under 1 s. In-process on pipes by default; with --pty the
 * real entry runs on a pseudo-terminal in basic mode, as on a serial console.
 * Run: node --import tsx bench/console-conf.ts [RUNS] [--pty]
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { driveApp } from '../test/console-conf/app-driver.js';
import { makeKey, makeRoot, runOnPty, startFakeStore } from '../test/console-conf/helpers.js';

const usePty = process.argv.includes('--pty');
const runs = Number(process.argv.slice(2).find((a) => /^\d+$/.test(a)) ?? (usePty ? 5 : 20));
const store = await startFakeStore();
store.sso.set('bench@example.com', { username: 'bench', ssh_keys: [makeKey('ssh-ed25519', 'a', 1), makeKey('ssh-rsa', 'b', 2)] });
const times: number[] = [];
for (let i = 0; i < runs; i++) {
  const { root, cleanup } = await makeRoot({ extrausers: i % 2 === 0 });
  if (usePty) {
    const config = join(root, 'cc.json');
    await writeFile(config, JSON.stringify({ 'sso-url': store.url, backend: 'direct' }));
    const run = runOnPty(['--serial', '--root', root, '--config', config], { name: 'ttyS0', term: 'vt100' });
    await run.waitFor('Press Enter to configure');
    run.write('\r');
    await run.waitFor('Choice:');
    run.write('\r');
    await run.waitFor('Email:');
    const t0 = performance.now();
    run.write('bench@example.com\r');
    await run.waitFor('ssh bench@');
    times.push(performance.now() - t0);
    run.write('\r');
    await run.exited;
    await cleanup();
    continue;
  }
  const app = driveApp(root, { ssoUrl: store.url });
  await app.waitFor('Press Enter to configure.');
  app.type('');
  await app.waitFor('Choice:');
  app.type('');
  await app.waitFor('Email:');
  const t0 = performance.now();
  app.type('bench@example.com');
  await app.waitFor('ssh bench@');
  times.push(performance.now() - t0);
  app.type('');
  await app.done;
  await cleanup();
}
await store.close();
times.sort((a, b) => a - b);
const pick = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))]!.toFixed(1);
console.log(`console-conf email -> done screen (${usePty ? 'pty, real process' : 'in-process'}), ${runs} runs: median ${pick(0.5)} ms, p95 ${pick(0.95)} ms, max ${times.at(-1)!.toFixed(1)} ms (target < 1000 ms)`);
