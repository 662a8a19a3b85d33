/**
 * The whole journey a device maker takes, through the real CLI and a real
 * coreforged with the embedded local store served on 127.0.0.1: store account,
 * login, create-key, register-key, sign the Raspberry Pi 3 model, build its
 * image with a first-boot config, flash it to a loop device, then play the
 * device's first boot: console-conf runs unattended on the flashed writable
 * partition against the store server's SSO and creates the owner's user.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import * as pty from 'node-pty';
import { buildAllFixtures } from './fixtures/snaps.js';
import { FIXTURE_MODELS, modelJSON, modelTimestamp } from './fixtures/models.js';
import { realDaemonEntry, repoRoot, runCli, startDaemon } from './helpers/daemon.js';
import { makeTempDir } from './helpers/tmp.js';
import { freePort } from './helpers/net.js';

const isRoot = process.getuid?.() === 0;
const skip = !isRoot ? 'needs root for loop devices and mounting the flashed partition' : !existsSync('/usr/sbin/losetup') && !existsSync('/sbin/losetup') ? 'losetup is not installed' : false;

const sh = (cmd: string, args: string[]) => execFileSync(cmd, args, { encoding: 'utf8' });

/**
 * What the device's initramfs does on first boot for the paths this test
 * touches: image defaults (`_writable_defaults`) land in the writable tree, and
 * the base's writable paths provide an empty var/lib/extrausers.
 */
function populateWritableAsFirstBoot(systemData: string): void {
  const defaults = join(systemData, '_writable_defaults');
  if (existsSync(defaults)) cpSync(defaults, systemData, { recursive: true, force: false, errorOnExist: false });
  mkdirSync(join(systemData, 'var/lib/extrausers'), { recursive: true });
}

describe('the journey: create-key to a user on the flashed device', { skip }, () => {
  it('ends with the store account owner able to ssh in, and a clean filesystem', { timeout: 600_000 }, async () => {
    const tmp = await makeTempDir('coreforge-journey-');
    const work = tmp.dir;
    const loops: string[] = [];
    const mounted: string[] = [];
    const port = await freePort();
    const daemon = await startDaemon({
      entry: realDaemonEntry,
      socketPath: join(work, 'coreforge.socket'),
      stateDir: join(work, 'state'),
      extraArgs: ['--offline', '--store-listen', `127.0.0.1:${port}`],
    });
    const cli = async (...args: string[]) => {
      const r = await runCli(args, { socketPath: daemon.socketPath, timeoutMs: 300_000 });
      assert.equal(r.code, 0, `coreforge ${args.join(' ')} failed:\n${r.stdout}\n${r.stderr}`);
      return r.stdout;
    };
    try {
      const built = await buildAllFixtures(join(work, 'snaps'), { ids: [...FIXTURE_MODELS['my-pi3']!] });
      const email = 'owner@example.com';
      const sshKey = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHH1OIf0FyVQtUZb7jbN6hUUlxdHF0qZTLQLxTNLD4XC owner@laptop';
      writeFileSync(join(work, 'owner.pub'), sshKey + '\n');
      writeFileSync(join(work, 'password'), 'correct horse battery\n');
      writeFileSync(join(work, 'passphrase'), 'brand key passphrase\n');

      // Store account, login, key, registration.
      await cli('store', 'account', 'add', email, '--username', 'owner', '--ssh-key', join(work, 'owner.pub'), '--password-file', join(work, 'password'));
      await cli('login', email, '--password-file', join(work, 'password'));
      const whoami = JSON.parse(await cli('whoami', '--json')) as Record<string, string>;
      const brandId = whoami['account-id']!;
      assert.match(brandId, /^[A-Za-z0-9]{32}$|^[a-z0-9-]+$/);
      await cli('create-key', 'brand', '--passphrase-file', join(work, 'passphrase'));
      await cli('register-key', 'brand', '--passphrase-file', join(work, 'passphrase'));
      const keys = JSON.parse(await cli('keys', '--json')) as { name: string; registered?: boolean }[];
      assert.equal(keys.find((k) => k.name === 'brand')?.registered, true, JSON.stringify(keys));

      // Sign the docs' Pi 3 model with the registered key; it verifies through the local store root.
      await new Promise((r) => setTimeout(r, 1100));
      writeFileSync(join(work, 'pi3.json'), JSON.stringify(modelJSON('my-pi3', brandId, modelTimestamp(new Date()))));
      writeFileSync(join(work, 'pi3.model'), await cli('sign', '-k', 'brand', '--passphrase-file', join(work, 'passphrase'), join(work, 'pi3.json')));
      await cli('verify', join(work, 'pi3.model'));

      // Build with a first-boot config that points console-conf at the store server's SSO.
      writeFileSync(join(work, 'first-boot.yaml'), `identity:\n  email: ${email}\nsso-url: http://127.0.0.1:${port}\n`);
      const out = join(work, 'image');
      const snaps = FIXTURE_MODELS['my-pi3']!.flatMap((id) => ['--snap', built[id]!.path]);
      await cli('build', '-O', out, '--first-boot', join(work, 'first-boot.yaml'), ...snaps, join(work, 'pi3.model'));
      const image = join(out, 'pi.img');

      // Flash it to a loop device standing in for the SD card.
      const card = join(work, 'sdcard.raw');
      writeFileSync(card, '');
      sh('truncate', ['-s', String(statSync(image).size + 8 * 1024 * 1024), card]);
      const device = sh('losetup', ['-f', '--show', card]).trim();
      loops.push(device);
      await cli('flash', image, device, '--include-loop', '--yes');

      // The device's first boot: mount the flashed writable partition and run console-conf unattended on it.
      const table = JSON.parse(sh('sfdisk', ['--json', device])) as { partitiontable: { sectorsize?: number; partitions: { start: number; size: number; type: string }[] } };
      const sector = table.partitiontable.sectorsize ?? 512;
      const writable = table.partitiontable.partitions.at(-1)!;
      const partition = sh('losetup', ['-f', '--show', '-o', String(writable.start * sector), '--sizelimit', String(writable.size * sector), device]).trim();
      loops.push(partition);
      const mnt = join(work, 'writable');
      mkdirSync(mnt);
      sh('mount', ['-t', 'ext4', partition, mnt]);
      mounted.push(mnt);
      const root = join(mnt, 'system-data');
      populateWritableAsFirstBoot(root);
      assert.ok(existsSync(join(root, 'var/lib/console-conf/first-boot.yaml')), 'the build put the first-boot config in the image');
      writeFileSync(join(work, 'console-conf.yaml'), 'backend: direct\nnetplan-apply: "true"\n');

      const term = pty.spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'console-conf/main.ts'), '--serial', '--root', root, '--config', join(work, 'console-conf.yaml')], {
        name: 'vt100',
        cols: 80,
        rows: 24,
        cwd: repoRoot,
        env: { ...process.env, TERM: 'vt100' } as Record<string, string>,
      });
      let screen = '';
      term.onData((d) => (screen += d));
      const exited = new Promise<number>((resolve) => term.onExit(({ exitCode }) => resolve(exitCode)));
      // Unattended: nothing is typed until the login details are up; Enter then hands the console to getty.
      const marker = join(root, 'var/lib/console-conf/complete');
      for (let i = 0; i < 600 && !existsSync(marker); i++) await new Promise((r) => setTimeout(r, 100));
      assert.ok(existsSync(marker), `console-conf did not complete:\n${screen}`);
      const enter = setInterval(() => term.write('\r'), 300);
      const code = await exited;
      clearInterval(enter);
      assert.equal(code, 0, screen);
      assert.match(screen, /owner/);

      // The user is in the image, with the store account's key.
      const passwd = readFileSync(join(root, 'var/lib/extrausers/passwd'), 'utf8');
      assert.match(passwd, /^owner:x:(\d+):(\d+):[^:]*:\/home\/owner:\/bin\/bash$/m);
      const keysFile = join(root, 'home/owner/.ssh/authorized_keys');
      assert.ok(readFileSync(keysFile, 'utf8').includes(sshKey.split(' ').slice(0, 2).join(' ')), 'the account key is authorized');
      assert.equal(statSync(keysFile).mode & 0o777, 0o600);
      assert.equal(statSync(join(root, 'etc/sudoers.d/create-user-owner')).mode & 0o777, 0o400);

      sh('umount', [mnt]);
      mounted.pop();
      const fsck = execFileSync('e2fsck', ['-fn', partition], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      assert.match(fsck, /clean|files/);
    } finally {
      for (const m of mounted.reverse()) execFileSync('umount', [m]);
      for (const l of loops.reverse()) execFileSync('losetup', ['-d', l]);
      await daemon.stop();
      await tmp.cleanup();
    }
  });
});
