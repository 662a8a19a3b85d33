import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SnapdClient } from '../../console-conf/users-snapd.js';
import { driveApp } from './app-driver.js';
import { ETC_PASSWD, makeKey, makeRoot, runOnPty } from './helpers.js';

const KEY = makeKey('ssh-ed25519', 'k', 7);

/** A stand-in for snapd on ROOT/run/snapd.socket with its documented /v2/system-info and /v2/users shapes. */
async function fakeSnapd(root: string, accounts: Record<string, string>, managed = false) {
  const requests: { method: string; path: string; body: unknown }[] = [];
  const users: { id: number; username: string; email: string }[] = [];
  const sync = (result: unknown) => JSON.stringify({ type: 'sync', 'status-code': 200, status: 'OK', result });
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const parsed = body ? (JSON.parse(body) as Record<string, unknown>) : undefined;
      requests.push({ method: req.method!, path: req.url!, body: parsed });
      res.setHeader('content-type', 'application/json');
      if (req.method === 'GET' && req.url === '/v2/system-info') {
        return res.end(sync({ series: '16', version: '2.61', 'on-classic': false, managed: managed || users.length > 0, kernel: { version: '6.8' } }));
      }
      if (req.method === 'GET' && req.url === '/v2/users') return res.end(sync(users));
      if (req.method === 'POST' && req.url === '/v2/users' && parsed?.action === 'create') {
        const email = String(parsed.email);
        const username = accounts[email];
        if (!username) {
          res.statusCode = 400;
          return res.end(JSON.stringify({ type: 'error', 'status-code': 400, status: 'Bad Request', result: { message: `cannot create user: cannot find user "${email}"` } }));
        }
        users.push({ id: users.length + 1, username, email });
        return res.end(sync([{ username, 'ssh-keys': [KEY] }]));
      }
      res.statusCode = 404;
      res.end(JSON.stringify({ type: 'error', 'status-code': 404, status: 'Not Found', result: { message: 'not found' } }));
    });
  });
  await mkdir(join(root, 'run'), { recursive: true });
  const socket = join(root, 'run/snapd.socket');
  await new Promise<void>((r) => server.listen(socket, r));
  return { socket, requests, close: () => new Promise<void>((r) => server.close(() => r())) };
}

test('the snapd backend asks snapd to create a sudoer from the email, shows snapd\'s error for an unknown one, and writes the marker', async (t) => {
  const { root, cleanup } = await makeRoot();
  const snapd = await fakeSnapd(root, { 'f@x.io': 'frank' });
  t.after(async () => {
    await snapd.close();
    await cleanup();
  });
  const app = driveApp(root, {}, { backend: 'snapd', snapd: new SnapdClient(snapd.socket) });
  t.after(() => app.stop());
  await app.submitIdentity('gh:frank');
  await app.waitFor('!! cannot use GitHub user frank with the snapd backend: snapd creates users from store accounts only; type an email or set "backend: direct" in the config');
  app.type('nobody@x.io');
  await app.waitFor('!! cannot create the user through snapd: snapd says "cannot create user: cannot find user "nobody@x.io""');
  app.type('f@x.io');
  await app.waitFor('ssh frank@192.0.2.7');
  app.type('');
  assert.equal(await app.done, 0);
  assert.deepEqual(
    snapd.requests.filter((r) => r.method === 'POST').map((r) => r.body),
    [
      { action: 'create', email: 'nobody@x.io', sudoer: true },
      { action: 'create', email: 'f@x.io', sudoer: true },
    ],
  );
  assert.deepEqual(JSON.parse(await readFile(join(root, 'var/lib/console-conf/complete'), 'utf8')), { username: 'frank', origin: 'store account f@x.io' });
  assert.equal(await readFile(join(root, 'etc/passwd'), 'utf8'), ETC_PASSWD, 'snapd, not console-conf, writes the user database');
});

test('a device snapd already manages is adopted at start: no question, no user created, its user shown and the marker written', async (t) => {
  const { root, cleanup } = await makeRoot();
  const snapd = await fakeSnapd(root, { 'g@x.io': 'gina' });
  t.after(async () => {
    await snapd.close();
    await cleanup();
  });
  const client = new SnapdClient(snapd.socket);
  await client.createUser('g@x.io');
  const app = driveApp(root, {}, { backend: 'snapd', snapd: client });
  t.after(() => app.stop());
  await app.waitFor('This device is already managed');
  await app.waitFor('This device belongs to store account g@x.io, user "gina".');
  app.type('');
  assert.equal(await app.done, 0);
  assert.deepEqual(JSON.parse(await readFile(join(root, 'var/lib/console-conf/complete'), 'utf8')), { username: 'gina', origin: 'store account g@x.io' });
  assert.equal(snapd.requests.filter((r) => r.method === 'POST').length, 1);
});

test('console-conf picks the snapd backend by itself when ROOT/run/snapd.socket exists', async (t) => {
  const { root, cleanup } = await makeRoot();
  const snapd = await fakeSnapd(root, { 'h@x.io': 'hank' });
  t.after(async () => {
    await snapd.close();
    await cleanup();
  });
  const config = join(root, 'cc.json');
  await writeFile(config, '{"netplan-apply": "true"}');
  const run = runOnPty(['--root', root, '--config', config], { name: 'tty1' });
  await run.waitFor('Press Enter to configure');
  run.write('\r');
  await run.waitFor('Choice:');
  run.write('\r');
  await run.waitFor('Email:');
  run.write('h@x.io\r');
  await run.waitFor('Press Enter to continue to the login prompt');
  run.write('\r');
  assert.equal(await run.exited, 0);
  assert.ok(snapd.requests.some((r) => r.method === 'POST' && r.path === '/v2/users'));
});
