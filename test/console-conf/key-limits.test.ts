import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { resolveIdentity, type KeySourceUrls } from '../../console-conf/key-sources.js';
import { createUserDirect } from '../../console-conf/users-direct.js';
import { parseKeyLine } from '../../console-conf/ssh-key.js';
import { driveApp } from './app-driver.js';
import { makeKey, makeRoot, startFakeStore, treeState, type FakeStore } from './helpers.js';

/** `n` distinct, valid ed25519 key lines. */
const keys = (n: number, comment = 'k') => Array.from({ length: n }, (_, i) => makeKey('ssh-ed25519', `${comment}${i}`, i % 250));
/** A valid key whose line is exactly `bytes` long (the comment fills it up). */
const keyOfLength = (bytes: number) => {
  const bare = makeKey('ssh-ed25519', '', 9);
  return `${bare} ${'c'.repeat(bytes - bare.length - 1)}`;
};
const urls = (s: FakeStore): KeySourceUrls => ({ ssoUrl: s.url, githubUrl: s.url, launchpadUrl: s.url });

async function withStore(t: import('node:test').TestContext): Promise<FakeStore> {
  const store = await startFakeStore();
  t.after(() => store.close());
  return store;
}

test('100 keys of 16 KiB a line are accepted and written: the limits are inclusive', async (t) => {
  const store = await withStore(t);
  const { root, cleanup } = await makeRoot();
  t.after(cleanup);
  const many = keys(99);
  const long = keyOfLength(16 * 1024);
  store.launchpad.set('max', [...many, long].join('\n') + '\n');
  const id = await resolveIdentity({ source: 'launchpad', user: 'max' }, urls(store));
  assert.equal(id.keys.length, 100);
  await createUserDirect(root, id);
  const written = await readFile(join(root, 'home/max/.ssh/authorized_keys'), 'utf8');
  assert.equal(written.split('\n').filter((l) => l.startsWith('ssh-')).length, 100);
  assert.ok(written.includes(long));
});

const hugeKey = keyOfLength(5 * 1024 * 1024);
const size = (v: unknown) => Buffer.byteLength(JSON.stringify(v));

interface Case {
  name: string;
  setup(s: FakeStore): void;
  spec: Parameters<typeof resolveIdentity>[0];
  message(s: FakeStore): string;
}

const cases: Case[] = [
  {
    name: 'a store account with 101 keys',
    setup: (s) => s.sso.set('a@x.io', { username: 'a', ssh_keys: keys(101) }),
    spec: { source: 'store', email: 'a@x.io' },
    message: () => 'cannot use the SSH keys of store account a@x.io: there are 101, over the limit of 100 keys; remove the keys you do not use at the source and try again',
  },
  {
    name: 'a Launchpad user with 20,000 keys',
    setup: (s) => s.launchpad.set('flood', keys(20_000, '').join('\n')),
    spec: { source: 'launchpad', user: 'flood' },
    message: () => 'cannot use the SSH keys of Launchpad user flood: there are 20000, over the limit of 100 keys; remove the keys you do not use at the source and try again',
  },
  {
    name: 'a store key line one byte over 16 KiB',
    setup: (s) => s.sso.set('a@x.io', { username: 'a', ssh_keys: [makeKey(), keyOfLength(16 * 1024 + 1)] }),
    spec: { source: 'store', email: 'a@x.io' },
    message: () => 'cannot use SSH key 2 of store account a@x.io: its line is 16385 bytes, over the limit of 16 KiB a key; shorten its comment or remove that key at its source',
  },
  {
    name: 'a GitHub key with a 5 MiB comment (the reply announces its size)',
    setup: (s) => s.github.set('octo', [{ key: hugeKey }]),
    spec: { source: 'github', user: 'octo' },
    message: (s) =>
      `cannot use the reply from ${s.url}/users/octo/keys for GitHub user octo: it announced ${size([{ key: hugeKey }])} bytes, over the limit of 2 MiB for a key list, so it was not read; check that the URL is a key server, or remove the keys you do not use at the source`,
  },
  {
    name: 'a store reply with a 5 MiB comment',
    setup: (s) => s.sso.set('a@x.io', { username: 'a', ssh_keys: [hugeKey] }),
    spec: { source: 'store', email: 'a@x.io' },
    message: (s) =>
      `cannot use the reply from ${s.url}/api/v2/keys/a%40x.io for store account a@x.io: it announced ${size({ username: 'a', ssh_keys: [hugeKey] })} bytes, over the limit of 2 MiB for a key list, so it was not read; check that the URL is a key server, or remove the keys you do not use at the source`,
  },
];

for (const c of cases) {
  test(`${c.name} is refused with the limit and the fix`, async (t) => {
    const store = await withStore(t);
    c.setup(store);
    await assert.rejects(resolveIdentity(c.spec, urls(store)), { kind: 'key-limit', message: c.message(store) });
  });
}

test('a key list that never ends is cut off at 2 MiB, long before it is all sent', async (t) => {
  const total = 256 * 1024 * 1024;
  let sent = 0;
  let closed!: () => void;
  const gone = new Promise<void>((r) => (closed = r));
  const server = createServer((_req, res) => {
    res.on('close', closed);
    res.writeHead(200, { 'content-type': 'text/plain' }); // chunked: no length announced
    const line = Buffer.from(makeKey() + '\n');
    const chunk = Buffer.concat(Array.from({ length: Math.ceil(65536 / line.length) }, () => line));
    const pump = () => {
      while (sent < total && !res.destroyed) {
        sent += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      res.end();
    };
    pump();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  await assert.rejects(resolveIdentity({ source: 'launchpad', user: 'endless' }, { ssoUrl: url, githubUrl: url, launchpadUrl: url }), {
    kind: 'key-limit',
    message: `cannot use the reply from ${url}/~endless/+sshkeys for Launchpad user endless: it ran over the limit of 2 MiB for a key list, so the rest was not read; check that the URL is a key server, or remove the keys you do not use at the source`,
  });
  await gone;
  assert.ok(sent < 64 * 1024 * 1024, `the connection was dropped early (${sent} of ${total} bytes were sent)`);
});

test('a user is never created with more keys than the limit, whoever calls', async (t) => {
  const { root, cleanup } = await makeRoot();
  t.after(cleanup);
  const before = await treeState(root);
  const identity = { username: 'dave', keys: keys(101).map((k) => parseKeyLine(k, 'x')), origin: 'x' };
  await assert.rejects(createUserDirect(root, identity), {
    kind: 'key-limit',
    message: 'cannot use the SSH keys of x: there are 101, over the limit of 100 keys; remove the keys you do not use at the source and try again',
  });
  assert.deepEqual(await treeState(root), before);
});

test('a first-boot file naming a source with 20,000 keys is refused on the console and nothing is written', async (t) => {
  const store = await withStore(t);
  const { root, cleanup } = await makeRoot();
  t.after(cleanup);
  store.launchpad.set('flood', keys(20_000, '').join('\n'));
  await mkdir(join(root, 'var/lib/console-conf'), { recursive: true });
  await writeFile(join(root, 'var/lib/console-conf/first-boot.yaml'), 'identity:\n  keys-from: lp:flood\n');
  const before = await treeState(root);
  const app = driveApp(root, { launchpadUrl: store.url });
  t.after(() => app.stop());
  await app.waitFor(
    '!! the first-boot file could not be used: cannot use the SSH keys of Launchpad user flood: there are 20000, over the limit of 100 keys; remove the keys you do not use at the source and try again. Continuing interactively.',
  );
  await app.stop();
  assert.deepEqual(await readdir(join(root, 'var/lib/console-conf')), ['first-boot.yaml'], 'no journal, marker or lock is left');
  assert.deepEqual(await treeState(root), before);
});

test('the identity screen shows the key limit and asks again, with nothing written', async (t) => {
  const store = await withStore(t);
  const { root, cleanup } = await makeRoot();
  t.after(cleanup);
  store.sso.set('a@x.io', { username: 'a', ssh_keys: keys(101) });
  const before = await treeState(root);
  const app = driveApp(root, { ssoUrl: store.url });
  t.after(() => app.stop());
  await app.submitIdentity('a@x.io');
  await app.waitFor('!! cannot use the SSH keys of store account a@x.io: there are 101, over the limit of 100 keys; remove the keys you do not use at the source and try again');
  await app.waitFor('Email:');
  await app.stop();
  const after = await treeState(root);
  for (const k of ['var', 'var/lib', 'var/lib/console-conf']) delete after[k];
  assert.deepEqual(after, before);
});
