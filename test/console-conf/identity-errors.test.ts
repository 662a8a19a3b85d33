import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { driveApp } from './app-driver.js';
import { ETC_PASSWD, makeKey, makeRoot, startFakeStore, type FakeStore } from './helpers.js';

const KEY = makeKey('ssh-ed25519', 'k', 3);

interface Case {
  name: string;
  setup(s: FakeStore): void;
  typed: string;
  message: (url: string) => string;
  /** point the SSO at a closed port */
  unreachable?: boolean;
}

const cases: Case[] = [
  {
    name: 'an unknown email (404)',
    setup: () => {},
    typed: 'who@example.com',
    message: (u) => `cannot find a store account with the email "who@example.com": no account with that email; check the spelling or create an account at ${u}`,
  },
  {
    name: 'an account with no SSH keys',
    setup: (s) => s.sso.set('a@example.com', { username: 'a', ssh_keys: [] }),
    typed: 'a@example.com',
    message: () => 'cannot use store account a@example.com: it has no SSH keys; add a public key to the account and try again',
  },
  {
    name: 'an unreachable store',
    setup: () => {},
    unreachable: true,
    typed: 'a@example.com',
    message: (u) => `cannot reach the store at ${u} to look up "a@example.com": ECONNREFUSED; check the network and try again`,
  },
  {
    name: 'a malformed JSON reply',
    setup: (s) => s.sso.set('a@example.com', '{"username": "a", "ssh_keys": ['),
    typed: 'a@example.com',
    message: () => 'cannot use the store\'s reply for "a@example.com": it is not valid JSON; the store must answer {"username": ..., "ssh_keys": [...]}',
  },
  {
    name: 'an invalid username',
    setup: (s) => s.sso.set('a@example.com', { username: 'Al Ice', ssh_keys: [KEY] }),
    typed: 'a@example.com',
    message: () => 'cannot use username "Al Ice": it must start with a-z or 0-9 and contain only a-z, 0-9 and - + . _; choose a username that follows this rule',
  },
  {
    name: 'the username root',
    setup: (s) => s.sso.set('a@example.com', { username: 'root', ssh_keys: [KEY] }),
    typed: 'a@example.com',
    message: () => 'cannot use username "root": it is reserved for the system administrator; choose another username',
  },
  {
    name: 'an existing system user',
    setup: (s) => s.sso.set('a@example.com', { username: 'daemon', ssh_keys: [KEY] }),
    typed: 'a@example.com',
    message: () => 'cannot create user "daemon": a user of that name already exists in etc/passwd; pick another username',
  },
  {
    name: 'a username with a slash',
    setup: (s) => s.sso.set('a@example.com', { username: '../../etc', ssh_keys: [KEY] }),
    typed: 'a@example.com',
    message: () => 'cannot use username "../../etc": it contains "/"; use only a-z, 0-9 and - + . _',
  },
  {
    name: 'a username with ..',
    setup: (s) => s.sso.set('a@example.com', { username: 'a..b', ssh_keys: [KEY] }),
    typed: 'a@example.com',
    message: () => 'cannot use username "a..b": it contains ".."; use only a-z, 0-9 and - + . _ without ".."',
  },
  {
    name: 'a key with an embedded newline',
    setup: (s) => s.sso.set('a@example.com', { username: 'a', ssh_keys: [`${KEY}\nssh-rsa AAAA`] }),
    typed: 'a@example.com',
    message: () => `cannot use the SSH key ${JSON.stringify(`${KEY}\nssh-rsa AAAA`.slice(0, 57) + '...')} from store account a@example.com: it spans more than one line; remove or fix that key at its source`,
  },
  {
    name: 'a key with a command= option',
    setup: (s) => s.sso.set('a@example.com', { username: 'a', ssh_keys: [`command="sh" ${KEY}`] }),
    typed: 'a@example.com',
    message: () => `cannot use the SSH key ${JSON.stringify(`command="sh" ${KEY}`.slice(0, 57) + '...')} from store account a@example.com: it starts with authorized_keys options, which are not allowed; remove or fix that key at its source`,
  },
  {
    name: 'a key of an unknown type',
    setup: (s) => s.sso.set('a@example.com', { username: 'a', ssh_keys: ['ssh-foo AAAA'] }),
    typed: 'a@example.com',
    message: () => 'cannot use the SSH key "ssh-foo AAAA" from store account a@example.com: its type "ssh-foo" is not one of ssh-ed25519, ssh-rsa, ecdsa-sha2-nistp256, ecdsa-sha2-nistp384, ecdsa-sha2-nistp521, sk-ssh-ed25519@openssh.com, sk-ecdsa-sha2-nistp256@openssh.com; remove or fix that key at its source',
  },
  {
    name: 'a GitHub user without keys',
    setup: (s) => s.github.set('nokeys', []),
    typed: 'gh:nokeys',
    message: () => 'cannot use GitHub user nokeys: it has no SSH keys; add a public key to the account and try again',
  },
  {
    name: 'a Launchpad user without keys',
    setup: (s) => s.launchpad.set('nokeys', '\n'),
    typed: 'lp:nokeys',
    message: () => 'cannot use Launchpad user nokeys: it has no SSH keys; add a public key to the account and try again',
  },
  {
    name: 'an unknown GitHub user',
    setup: () => {},
    typed: 'gh:ghost',
    message: (u) => `cannot find GitHub user ghost: ${u}/users/ghost/keys answered 404; check the username`,
  },
  {
    name: 'something that is not an identity',
    setup: () => {},
    typed: 'alice',
    message: () => 'cannot use "alice": that is not an email address; type the store account\'s email, gh:USER or lp:USER',
  },
];

for (const c of cases) {
  test(`the identity screen explains ${c.name}, creates nothing and lets the owner try again`, async (t) => {
    const store = await startFakeStore();
    const { root, cleanup } = await makeRoot();
    t.after(async () => {
      await store.close();
      await cleanup();
    });
    c.setup(store);
    const sso = c.unreachable ? `http://127.0.0.1:${await closedPort()}` : store.url;
    const app = driveApp(root, { ssoUrl: sso, githubUrl: store.url, launchpadUrl: store.url });
    t.after(() => app.stop());
    await app.submitIdentity(c.typed);
    await app.waitFor(`!! ${c.message(sso)}`);
    await app.waitFor('Email:');
    assert.deepEqual(await readdir(join(root, 'var/lib/console-conf')).catch(() => []), [], 'no marker, no journal, no lock left');
    assert.ok(!(await readdir(root)).includes('home'), 'no home directory');
    assert.deepEqual(await readdir(join(root, 'etc/sudoers.d')), []);
    assert.equal(await readFile(join(root, 'etc/passwd'), 'utf8'), ETC_PASSWD);
    store.sso.set('ok@example.com', { username: 'okay', ssh_keys: [KEY] });
    app.type(c.unreachable ? 'back' : 'ok@example.com');
    if (!c.unreachable) {
      await app.waitFor('ssh okay@192.0.2.7');
      const early = await Promise.race([app.done.then(() => 'finished'), new Promise((r) => setTimeout(() => r('waiting'), 200))]);
      assert.equal(early, 'waiting', 'the done screen stays until Enter');
      app.type('');
      assert.equal(await app.done, 0);
    } else {
      await app.waitFor('Choice:');
      app.type('skip');
      await app.waitFor('Email:');
      app.type('gh:nobody');
      await app.waitFor('Email:');
    }
  });
}

/** A port nothing listens on: bound, then released. */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}
