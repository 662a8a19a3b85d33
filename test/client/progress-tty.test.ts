// Progress as a user sees it on a terminal, from the real CLI and coreforged:
// speed and time left for a flash (per drive) and a store download, steps for
// key creation. The work is made slow by its input, not by the code under test:
// an xz image of low-entropy data decodes at tens of MB/s, and a proxy in front
// of the local store lets a snap through in slices, as a slow link would.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildAllFixtures, type BuiltFixture } from '../fixtures/snaps.js';
import { runCli, startDaemon, type DaemonProcess } from '../helpers/daemon.js';
import { freePort } from '../helpers/net.js';
import { runCliOnPty } from '../helpers/pty-cli.js';
import { makeTempDir } from '../helpers/tmp.js';
import { haveTool, MiB, pseudoRandom } from '../daemon/flash/images.js';
import { LoopDevices, loopSkipReason } from '../daemon/flash/loop-devices.js';

/** The lines a terminal was given, one per redraw (the CLI starts each with CR and erase-line). */
const redraws = (screen: string) => screen.split('\r\x1b[K').map((l) => l.replace(/[\r\n].*$/s, ''));

/** A store proxy: passes everything through, but sends snap downloads in 20 slices 100 ms apart. */
async function slowDownloads(storePort: number): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const upstream = request({ host: '127.0.0.1', port: storePort, method: req.method, path: req.url, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      if (!req.url?.startsWith('/api/v1/snaps/download/')) return void up.pipe(res);
      const parts: Buffer[] = [];
      up.on('data', (d: Buffer) => parts.push(d));
      up.on('end', async () => {
        const body = Buffer.concat(parts);
        for (let i = 0; i < 20; i++) {
          res.write(body.subarray(Math.floor((body.length * i) / 20), Math.floor((body.length * (i + 1)) / 20)));
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        res.end();
      });
    });
    upstream.on('error', (err) => res.destroy(err));
    req.pipe(upstream);
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${port}`, server };
}

describe('progress on a terminal through the CLI and coreforged', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let daemon: DaemonProcess;
  let proxy: Server;
  let hello: BuiltFixture;
  let loops: LoopDevices | undefined;

  before(async () => {
    ({ dir, cleanup } = await makeTempDir());
    const storePort = await freePort();
    const slow = await slowDownloads(storePort);
    proxy = slow.server;
    const extraArgs = ['--offline', '--store-listen', `127.0.0.1:${storePort}`, '--store-url', slow.url];
    [daemon, hello] = await Promise.all([
      startDaemon({ socketPath: join(dir, 'cf.sock'), stateDir: join(dir, 'state'), extraArgs }, 60_000),
      buildAllFixtures(join(dir, 'snaps'), { ids: ['hello-coreforge-amd64'] }).then((f) => f['hello-coreforge-amd64']!),
    ]);
  });
  after(async () => {
    await daemon?.stop();
    await new Promise((resolve) => proxy?.close(resolve));
    loops?.detachAll();
    await cleanup?.();
  });

  it('shows the speed and time left of a flash on the drive\'s own line', { skip: loopSkipReason() ?? (!haveTool('xz') && 'xz is not installed') }, async () => {
    // 16 symbols: xz codes nearly every byte as a literal, so decoding (the flash's source) takes a second or more.
    const raw = join(dir, 'slow.img');
    const data = pseudoRandom(32 * MiB, 11);
    for (let i = 0; i < data.length; i++) data[i] = 0x61 + (data[i]! & 15);
    await writeFile(raw, data);
    execFileSync('xz', ['-0', '-T1', '-f', raw]);
    loops = new LoopDevices(dir);
    const loop = await loops.attach('card', 40 * MiB);
    const { code, screen } = await runCliOnPty(['flash', `${raw}.xz`, loop.path, '--include-loop', '--yes', '--force'], { socketPath: daemon.socketPath, timeoutMs: 120_000 });
    assert.equal(code, 0, screen);
    const line = new RegExp(`^${loop.path} +flashing +(\\[[#.]+\\] +)?\\d+\\.\\d% +[\\d.]+ [KM]iB/32\\.0 MiB +[\\d.]+ [KM]iB/s +ETA \\d+:\\d\\d$`);
    assert.ok(redraws(screen).some((l) => line.test(l)), `no line with speed and time left:\n${JSON.stringify(screen)}`);
  });

  it('shows the speed and time left of a store download', async () => {
    const added = await runCli(['store', 'add', hello.path, '--channel', 'stable'], { socketPath: daemon.socketPath });
    assert.equal(added.code, 0, added.stderr);
    const { code, screen } = await runCliOnPty(['store', 'download', 'hello-coreforge'], { socketPath: daemon.socketPath });
    assert.equal(code, 0, screen);
    const line = /^downloading +(\[[#.]+\] +)?\d+\.\d% +[\d.]+ (B|KiB|MiB)\/[\d.]+ (B|KiB|MiB) +[\d.]+ (B|KiB|MiB)\/s +ETA \d+:\d\d$/;
    assert.ok(redraws(screen).some((l) => line.test(l)), `no line with speed and time left:\n${JSON.stringify(screen)}`);
  });

  it('shows key creation as steps, never as bytes', async () => {
    const { code, screen } = await runCliOnPty(['create-key', 'steps-key'], { socketPath: daemon.socketPath, env: { COREFORGE_PASSPHRASE: 'steps key passphrase' } });
    assert.equal(code, 0, screen);
    const steps = redraws(screen).filter((l) => /^step [1-3]\/3: (generating RSA key|encrypting key|storing key|stored)$/.test(l));
    assert.ok(steps.length > 0, `no step line:\n${JSON.stringify(screen)}`);
    assert.ok(!/\d B\/\d+ B/.test(screen), `steps shown as bytes:\n${JSON.stringify(screen)}`);
    assert.match(screen, /created key "steps-key" with SHA3-384 /);
  });
});
