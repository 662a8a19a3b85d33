import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { driveApp } from './app-driver.js';
import { makeKey, makeRoot, startFakeStore } from './helpers.js';

async function firstBoot(root: string, text: string, at = 'var/lib/console-conf/first-boot.yaml') {
  await mkdir(dirname(join(root, at)), { recursive: true });
  await writeFile(join(root, at), text);
}

/** Where `coreforge build --first-boot` puts the file in a UC20+ image: ubuntu-seed, bound at /var/lib/snapd/seed in run mode. */
const UC20_SEED = 'var/lib/snapd/seed/coreforge/first-boot.yaml';

/** A first-boot file at `at` naming a store account (with its own sso-url) creates that user with no input. */
async function unattendedUser(t: TestContext, at: string): Promise<void> {
  const store = await startFakeStore();
  const { root, cleanup } = await makeRoot();
  t.after(async () => {
    await store.close();
    await cleanup();
  });
  store.sso.set('ivy@x.io', { username: 'ivy', ssh_keys: [makeKey()] });
  await firstBoot(root, `identity:\n  email: ivy@x.io\nsso-url: ${store.url}\n`, at);
  const app = driveApp(root, { ssoUrl: 'http://127.0.0.1:1' });
  t.after(() => app.stop());
  await app.waitFor(`Following the first-boot file /${at}; no input is needed.`);
  await app.waitFor('ssh ivy@192.0.2.7');
  app.type('');
  assert.equal(await app.done, 0);
  assert.match(await readFile(join(root, 'etc/passwd'), 'utf8'), /^ivy:x:1002:1002:ivy@x\.io:\/home\/ivy:\/bin\/bash$/m);
}

test('a first-boot email with its own sso-url creates the user unattended', (t) => unattendedUser(t, 'var/lib/console-conf/first-boot.yaml'));

test('a first-boot file whose account cannot be used explains why and falls back to the interactive screens', async (t) => {
  const store = await startFakeStore();
  const { root, cleanup } = await makeRoot();
  t.after(async () => {
    await store.close();
    await cleanup();
  });
  await firstBoot(root, 'identity:\n  keys-from: gh:ghost\n');
  const app = driveApp(root, { githubUrl: store.url });
  t.after(() => app.stop());
  await app.waitFor(`!! the first-boot file could not be used: cannot find GitHub user ghost: ${store.url}/users/ghost/keys answered 404; check the username. Continuing interactively.`);
  await app.waitFor('Press Enter to configure.');
});

test('a first-boot file asking snapd for a GitHub user is refused with the fix', async (t) => {
  const { root, cleanup } = await makeRoot();
  t.after(cleanup);
  await firstBoot(root, 'identity:\n  keys-from: gh:octo\n');
  const app = driveApp(root, {}, { backend: 'snapd' });
  t.after(() => app.stop());
  await app.waitFor('!! the first-boot file could not be used: cannot use GitHub user octo with the snapd backend: snapd creates users from store accounts only; type an email or set "backend: direct" in the config. Continuing interactively.');
});

test('a first-boot file on ubuntu-seed (UC20+ images) is followed, and the screen names the path it came from', (t) => unattendedUser(t, UC20_SEED));

test('the UC16/18 first-boot file comes before the one on ubuntu-seed, and the ubuntu-seed mount point is looked at too', async (t) => {
  const { root, cleanup } = await makeRoot();
  t.after(cleanup);
  await firstBoot(root, 'identity:\n  email: 1\n');
  await firstBoot(root, 'identity:\n  email: 2\n', UC20_SEED);
  const app = driveApp(root, {});
  t.after(() => app.stop());
  await app.waitFor('!! cannot use first-boot file /var/lib/console-conf/first-boot.yaml:');
  await app.stop();

  const other = await makeRoot();
  t.after(other.cleanup);
  await firstBoot(other.root, 'nope: 1\n', 'run/mnt/ubuntu-seed/coreforge/first-boot.yaml');
  const again = driveApp(other.root, {});
  t.after(() => again.stop());
  await again.waitFor('!! cannot use first-boot file /run/mnt/ubuntu-seed/coreforge/first-boot.yaml: unknown key "nope"; use only identity, network, sso-url. Continuing interactively.');
});

test('a seed symlink under --root that leads out of it is not followed to the host\'s file', async (t) => {
  const { root, cleanup } = await makeRoot();
  const outside = await mkdtemp(join(tmpdir(), 'cc-outside-'));
  t.after(async () => {
    await cleanup();
    await rm(outside, { recursive: true, force: true });
  });
  await firstBoot(outside, 'identity:\n  keys-from: gh:octo\n', 'coreforge/first-boot.yaml');
  await mkdir(join(root, 'var/lib/snapd'), { recursive: true });
  await symlink(outside, join(root, 'var/lib/snapd/seed'));
  const app = driveApp(root, {});
  t.after(() => app.stop());
  await app.waitFor('!! cannot use path "var/lib/snapd/seed/coreforge/first-boot.yaml":');
  await app.waitFor('outside the root');
  await app.waitFor('Press Enter to configure.');
});
