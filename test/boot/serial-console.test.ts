// The serial-console driver of the boot test against a stand-in for qemu's
// chardev socket: text matched across chunks and escape sequences, every
// fatal sign failing fast with the stage and the saved log, timeouts, qemu
// exiting, and answers reaching the guest. No qemu needed.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BootFailure, SerialConsole, cleanConsoleText } from '../helpers/serial-console.js';
import { makeTempDir } from '../helpers/tmp.js';

/** A Unix socket server that plays the guest: the test writes what the guest prints. */
async function fakeQemu(path: string): Promise<{ server: Server; guest: Promise<Socket>; received: () => string }> {
  let received = '';
  let gotGuest!: (s: Socket) => void;
  const guest = new Promise<Socket>((r) => (gotGuest = r));
  const server = createServer((s) => {
    s.on('data', (d) => (received += d.toString()));
    gotGuest(s);
  });
  await new Promise<void>((r) => server.listen(path, r));
  return { server, guest, received: () => received };
}

describe('SerialConsole', () => {
  let tmp: { dir: string; cleanup(): Promise<void> };
  let n = 0;
  before(async () => (tmp = await makeTempDir('coreforge-serial-')));
  after(async () => tmp.cleanup());

  /** A fresh fake qemu and a console connected to it. */
  async function setup() {
    n++;
    const sock = join(tmp.dir, `s${n}.sock`);
    const logPath = join(tmp.dir, `s${n}.log`);
    const q = await fakeQemu(sock);
    const c = await SerialConsole.connect(sock, { logPath, whyClosed: async () => 'qemu ended (exit code 1): oops' });
    const g = await q.guest;
    return { c, g, q, logPath, done: async () => { await c.close(); q.server.close(); } };
  }

  it('removes ANSI and OVMF escape sequences and carriage returns', () => {
    assert.equal(cleanConsoleText('\x1b[2J\x1b[01;01H\x1b[=3h\x1b[0m\x1b[40mBdsDxe: ok\r\n\x1b(B\x1b[?25lWelcome\x1b]0;title\x07!'), 'BdsDxe: ok\nWelcome!');
  });

  it('matches text cut anywhere by the serial line: escape sequences and UTF-8 split across chunks', async () => {
    const { c, g, logPath, done } = await setup();
    const raw = Buffer.from('\x1b[0mPress Enter \x1b[1mto\x1b[0m configure\u2026 \r\n');
    const waiting = c.expect(/Press Enter to configure\u2026/, { stage: 'console-conf', timeoutMs: 5_000 });
    for (let i = 0; i < raw.length; i += 3) {
      g.write(raw.subarray(i, i + 3));
      await new Promise((r) => setTimeout(r, 2));
    }
    const m = await waiting;
    assert.equal(m[0], 'Press Enter to configure\u2026');
    assert.doesNotMatch(c.output(), /\x1b/);
    await done();
    assert.deepEqual(readFileSync(logPath), raw, 'the log holds the raw bytes');
  });

  it('matches each text once, after the previous match', async () => {
    const { c, g, done } = await setup();
    g.write('login: one\nlogin: two\n');
    const first = await c.expect(/login: (\w+)/, { stage: 's', timeoutMs: 2_000 });
    const second = await c.expect(/login: (\w+)/, { stage: 's', timeoutMs: 2_000 });
    assert.deepEqual([first[1], second[1]], ['one', 'two']);
    await done();
  });

  const signs: [string, string, RegExp][] = [
    ['grub prompt', 'GNU GRUB  version 2.06\n\ngrub> ', /grub's command prompt/],
    ['grub error', "error: file `/EFI/ubuntu/grub.cfg' not found.\n", /a grub error: "error: file/],
    ['kernel panic', '[    2.1] Kernel panic - not syncing: VFS: Unable to mount root fs\n', /a kernel panic: "Kernel panic - not syncing: VFS/],
    ['initramfs failure', '\ncoreforge-initramfs: cannot boot: no partition labelled "writable" appeared\n', /the initramfs gave up: "coreforge-initramfs: cannot boot: no partition/],
    ['initramfs shell', '(initramfs) ', /the initramfs shell/],
    ['emergency mode', 'You are in emergency mode. After logging in, type "journalctl -xb"\n', /emergency or rescue shell/],
    ['rescue shell', 'Give root password for maintenance\n(or press Control-D to continue): ', /emergency or rescue shell/],
    ['locked root', 'Cannot open access to console, the root account is locked.\n', /emergency shell/],
  ];
  for (const [name, text, why] of signs) {
    it(`fails at once on ${name}, naming the stage and the saved log`, async () => {
      const { c, g, logPath, done } = await setup();
      const started = Date.now();
      const waiting = c.expect(/Press Enter to configure/, { stage: 'systemd to console-conf', timeoutMs: 30_000 });
      g.write(`boot noise\n${text}`);
      const err = await waiting.then(() => assert.fail('expect resolved'), (e: unknown) => e);
      assert.ok(err instanceof BootFailure, String(err));
      assert.ok(Date.now() - started < 5_000, 'well before the stage timeout');
      assert.equal(err.kind, 'fatal-sign');
      assert.equal(err.stage, 'systemd to console-conf');
      assert.equal(err.logPath, logPath);
      assert.match(err.message, /^boot failed at stage "systemd to console-conf" after [\d.]+ s: /);
      assert.match(err.message, why);
      assert.ok(err.message.endsWith(`the whole serial log is in ${logPath}`), err.message);
      await done();
      assert.ok(readFileSync(logPath, 'utf8').includes(text), 'the log holds the sign');
    });
  }

  it('fails the next expect on a sign seen while nothing was awaited', async () => {
    const { c, g, done } = await setup();
    g.write('coreforge-initramfs: cannot boot: snap_core=x_1.snap is in neither\n(initramfs) ');
    await new Promise((r) => setTimeout(r, 100));
    await assert.rejects(c.expect(/login: /, { stage: 'late', timeoutMs: 30_000 }), (e: BootFailure) => e.stage === 'late' && e.evidence === 'coreforge-initramfs: cannot boot: snap_core=x_1.snap is in neither');
    await done();
  });

  it("ignores a line starting with error: once the kernel runs (only grub's errors are fatal)", async () => {
    const { c, g, done } = await setup();
    g.write('[    0.000000] Linux version 6.1.0\nerror: not from grub\nubuntu login: ');
    await c.expect(/login: /, { stage: 's', timeoutMs: 2_000 });
    await done();
  });

  it('times out with the stage, the log and the last lines of the console', async () => {
    const { c, g, logPath, done } = await setup();
    g.write('Starting things...\nstill starting\n');
    const err = await c.expect(/never/, { stage: 'systemd to console-conf', timeoutMs: 200 }).catch((e: BootFailure) => e);
    assert.ok(err instanceof BootFailure);
    assert.equal(err.kind, 'timeout');
    assert.match(err.message, /^boot failed at stage "systemd to console-conf" after [\d.]+ s: no \/never\/ on the console within 0 s; the whole serial log is in /);
    assert.ok(err.message.includes(logPath));
    assert.match(err.message, /\| still starting\n/);
    await done();
  });

  it('fails when qemu exits, saying how', async () => {
    const { c, g, done } = await setup();
    const waiting = c.expect(/login: /, { stage: 'second boot', timeoutMs: 30_000 });
    g.end('[   3.0] reboot: Restarting system\n');
    const err = await waiting.catch((e: BootFailure) => e);
    assert.ok(err instanceof BootFailure);
    assert.equal(err.kind, 'console-closed');
    assert.match(err.message, /the serial console closed: qemu ended \(exit code 1\): oops/);
    await done();
  });

  it('types answers on the guest side and remembers them', async () => {
    const { c, q, done } = await setup();
    c.send('\r');
    c.send('owner@example.com\r');
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(q.received(), '\rowner@example.com\r');
    assert.equal(c.typed(), '\rowner@example.com\r');
    await done();
  });

  it('waits for qemu to create the socket', async () => {
    const sock = join(tmp.dir, 'late.sock');
    const connecting = SerialConsole.connect(sock, { logPath: join(tmp.dir, 'late.log'), connectTimeoutMs: 5_000 });
    await new Promise((r) => setTimeout(r, 300));
    const q = await fakeQemu(sock);
    const c = await connecting;
    await c.close();
    q.server.close();
  });

  it('gives up on a socket that never appears, naming it', async () => {
    const sock = join(tmp.dir, 'never.sock');
    await assert.rejects(SerialConsole.connect(sock, { logPath: join(tmp.dir, 'never.log'), connectTimeoutMs: 200 }), {
      message: `cannot connect to the serial console ${sock}: connect ENOENT ${sock}; check that qemu runs with -chardev socket,path=${sock},server=on`,
    });
  });
});
