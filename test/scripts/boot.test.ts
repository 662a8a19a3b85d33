// scripts/boot without booting anything: the qemu command line it runs (a
// stand-in qemu on PATH prints its arguments) and its refusals, each naming
// the input and the fix. The real boots are in test/boot/boot.test.ts.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { repoRoot } from '../helpers/daemon.js';
import { freePort } from '../helpers/net.js';
import { makeTempDir } from '../helpers/tmp.js';

const script = join(repoRoot, 'scripts/boot');

describe('scripts/boot', () => {
  let tmp: { dir: string; cleanup(): Promise<void> };
  let image: string;
  let fakeBin: string;
  let store: Server;
  let storePort: number;

  /** Runs scripts/boot with PATH = the fake qemu's dir, then the system's tools, unless told otherwise. */
  const boot = (args: string[], env: NodeJS.ProcessEnv = {}) => {
    const r = spawnSync('bash', [script, ...args], { encoding: 'utf8', env: { ...process.env, PATH: `${fakeBin}:${process.env.PATH}`, ...env } });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  before(async () => {
    tmp = await makeTempDir('coreforge-bootscript-');
    image = join(tmp.dir, 'pc.img');
    writeFileSync(image, Buffer.alloc(4096));
    fakeBin = join(tmp.dir, 'bin');
    mkdirSync(fakeBin);
    const qemu = join(fakeBin, 'qemu-system-x86_64');
    writeFileSync(qemu, '#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done\n');
    chmodSync(qemu, 0o755);
    store = createServer((s) => s.end());
    storePort = await new Promise<number>((r) => store.listen(0, '127.0.0.1', () => r((store.address() as { port: number }).port)));
  });
  after(async () => {
    store.close();
    await tmp.cleanup();
  });

  it('runs qemu with OVMF, a virtio disk, one CPU, the serial socket and only the restricted user network', async () => {
    const sshPort = await freePort();
    const serial = join(tmp.dir, 'ttyS0.sock');
    const r = boot([image, '--serial', serial, '--ssh-port', String(sshPort), '--store-port', String(storePort), '--accel', 'tcg'], { COREFORGE_OVMF: image });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.deepEqual(r.stdout.trimEnd().split('\n'), [
      '-accel', 'tcg', '-smp', '1', '-m', '1024',
      '-bios', image,
      '-drive', `file=${image},format=raw,if=virtio`,
      '-chardev', `socket,id=s0,path=${serial},server=on,wait=off`, '-serial', 'chardev:s0',
      '-netdev', `user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:${sshPort}-:22,guestfwd=tcp:10.0.2.100:80-cmd:nc 127.0.0.1 ${storePort}`,
      '-device', 'virtio-net-pci,netdev=n0',
      '-display', 'none', '-monitor', 'none', '-no-reboot',
    ]);
  });

  it('explains itself with --help', () => {
    const r = boot(['--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^usage: bash scripts\/boot IMAGE --serial PATH --ssh-port PORT --store-port PORT \[--accel tcg\|kvm\|auto\]/);
    for (const word of ['restrict=on', '10.0.2.100:80', 'qemu-system-x86', 'ovmf', '--accel ACCEL']) assert.ok(r.stdout.includes(word), word);
  });

  it('refuses bad inputs, naming the input and the fix', async () => {
    const taken = createServer();
    const takenPort = await new Promise<number>((r) => taken.listen(0, '127.0.0.1', () => r((taken.address() as { port: number }).port)));
    const sshPort = await freePort();
    const serial = join(tmp.dir, 'ok.sock');
    const ok = ['--serial', serial, '--ssh-port', String(sshPort), '--store-port', String(storePort)];
    const notSocket = join(tmp.dir, 'plain-file');
    writeFileSync(notSocket, '');
    const noQemu = join(tmp.dir, 'noqemu');
    mkdirSync(noQemu);
    for (const tool of ['bash', 'dirname', 'id', 'grep', 'nc']) {
      const found = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
      symlinkSync(found, join(noQemu, tool));
    }
    const cases: [string, string[], NodeJS.ProcessEnv, string][] = [
      ['no image', ok, {}, 'boot: cannot boot: no IMAGE given; usage: bash scripts/boot IMAGE --serial PATH --ssh-port PORT --store-port PORT\n'],
      ['a missing image', [join(tmp.dir, 'nope.img'), ...ok], {}, `boot: cannot boot image ${join(tmp.dir, 'nope.img')}: it does not exist; build one with coreforge build (its output dir holds VOLUME.img)\n`],
      ['a directory', [tmp.dir, ...ok], {}, `boot: cannot boot image ${tmp.dir}: it is neither a regular file nor a block device; name the .img file\n`],
      ['no --serial', [image, '--ssh-port', String(sshPort), '--store-port', String(storePort)], {}, 'boot: cannot boot without --serial PATH: the serial console is a Unix socket at PATH\n'],
      ['a serial path that is a file', [image, ...ok.slice(2), '--serial', notSocket], {}, `boot: cannot use --serial ${notSocket}: it exists and is not a socket (qemu would replace it); pick a new path\n`],
      ['a taken SSH port', [image, ...ok, '--ssh-port', String(takenPort)], {}, `boot: cannot forward SSH from 127.0.0.1:${takenPort} (--ssh-port): the port is taken; pick a free port\n`],
      ['a port that is no port', [image, ...ok, '--store-port', '70000'], {}, 'boot: cannot use --store-port 70000: a TCP port is a number from 1 to 65535\n'],
      ['an unknown accelerator', [image, ...ok, '--accel', 'hvf'], {}, 'boot: cannot use --accel hvf: choose tcg, kvm or auto\n'],
      ['an unknown option', [image, ...ok, '--vnc'], {}, 'boot: cannot use option --vnc: unknown; see bash scripts/boot --help\n'],
      ['no OVMF', [image, ...ok], { COREFORGE_OVMF: join(tmp.dir, 'OVMF.fd') }, `boot: cannot find the UEFI firmware ${join(tmp.dir, 'OVMF.fd')}; install the Debian package ovmf (apt-get install ovmf, or bash scripts/setup)\n`],
      ['no qemu', [image, ...ok], { PATH: noQemu }, 'boot: cannot find qemu-system-x86_64; install the Debian package qemu-system-x86 (apt-get install qemu-system-x86, or bash scripts/setup)\n'],
    ];
    try {
      for (const [name, args, env, message] of cases) {
        const r = boot(args, env);
        assert.deepEqual([r.code, r.stderr], [2, message], name);
      }
    } finally {
      taken.close();
    }
  });

  it('warns when nothing listens on the store port, and boots anyway', async () => {
    const closedPort = await freePort();
    const r = boot([image, '--serial', join(tmp.dir, 'w.sock'), '--ssh-port', String(await freePort()), '--store-port', String(closedPort), '--accel', 'tcg'], { COREFORGE_OVMF: image });
    assert.equal(r.code, 0);
    assert.equal(r.stderr, `boot: warning: nothing listens on 127.0.0.1:${closedPort} (--store-port); console-conf in the guest cannot reach its SSO until coreforged --store-listen 127.0.0.1:${closedPort} runs\n`);
  });
});
