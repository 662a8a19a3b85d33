import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { driveApp } from './app-driver.js';
import { makeKey, makeRoot, startFakeStore } from './helpers.js';

async function firstBoot(root: string, text: string) {
  await mkdir(join(root, 'var/lib/console-conf'), { recursive: true });
  await writeFile(join(root, 'var/lib/console-conf/first-boot.yaml'), text);
}

test('a first-boot email with its own sso-url creates the user unattended', async (t) => {
  const store = await startFakeStore();
  const { root, cleanup } = await makeRoot();
  t.after(async () => {
    await store.close();
    await cleanup();
  });
  store.sso.set('ivy@x.io', { username: 'ivy', ssh_keys: [makeKey()] });
  await firstBoot(root, `identity:\n  email: ivy@x.io\nsso-url: ${store.url}\n`);
  const app = driveApp(root, { ssoUrl: 'http://127.0.0.1:1' });
  t.after(() => app.stop());
  await app.waitFor('no input is needed');
  await app.waitFor('ssh ivy@192.0.2.7');
  app.type('');
  assert.equal(await app.done, 0);
  assert.match(await readFile(join(root, 'etc/passwd'), 'utf8'), /^ivy:x:1002:1002:ivy@x\.io:\/home\/ivy:\/bin\/bash$/m);
});

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
