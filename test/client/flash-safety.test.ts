// What `coreforge flash` tells before it erases: mounted cards (a really
// mounted loop device), files that are no disk image, and honest speeds.
// Through the real CLI and coreforged, onto loop devices made here.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ChangeInfo, DriveInfo, FlashResult } from '../../daemon/api/types.js';
import { runCli, startDaemon, type DaemonProcess } from '../helpers/daemon.js';
import { runCliOnPty } from '../helpers/pty-cli.js';
import { makeTempDir } from '../helpers/tmp.js';
import { bmapFor, MiB, type TestImage, typicalRanges, writeImage } from '../daemon/flash/images.js';
import { type Loop, LoopDevices, loopSkipReason, deviceBytes } from '../daemon/flash/loop-devices.js';

const skip = loopSkipReason() ?? false;
const garbage = 0x5a;

/** Mountpoints of a device now, from the kernel's table (findmnt), not from coreforge. */
function mountpointsOf(device: string): string[] {
  try {
    return execFileSync('findmnt', ['-n', '-o', 'TARGET', '-S', device], { encoding: 'utf8' }).split('\n').filter(Boolean);
  } catch {
    return []; // findmnt exits 1 when nothing is mounted
  }
}

describe('flash safety through the CLI and coreforged', { skip }, () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let daemon: DaemonProcess;
  let loops: LoopDevices;
  let image: TestImage;
  const mounted: string[] = [];
  const cli = (args: string[]) => runCli(args, { socketPath: daemon.socketPath, timeoutMs: 60_000 });

  /** A loop device with an ext4 filesystem mounted at DIR/NAME, as a desktop mounts a card it sees. */
  const mountedCard = async (name: string): Promise<{ loop: Loop; mnt: string }> => {
    const loop = await loops.attach(name, 40 * MiB, { fill: garbage });
    execFileSync('mkfs.ext4', ['-q', '-F', loop.path]);
    const mnt = join(dir, `mnt-${name}`);
    await mkdir(mnt);
    execFileSync('mount', [loop.path, mnt]);
    mounted.push(mnt);
    await writeFile(join(mnt, 'photo.jpg'), 'holiday');
    return { loop, mnt };
  };

  before(async () => {
    ({ dir, cleanup } = await makeTempDir());
    loops = new LoopDevices(dir);
    image = await writeImage(join(dir, 'pi.img'), 32 * MiB, typicalRanges(32 * MiB));
    await writeFile(`${image.path}.bmap`, bmapFor(image));
    daemon = await startDaemon({ socketPath: join(dir, 'cf.sock'), stateDir: join(dir, 'state') });
  });
  after(async () => {
    for (const m of mounted) {
      try {
        execFileSync('umount', [m], { stdio: 'ignore' });
      } catch {
        // unmounted by the flash, as it should be
      }
    }
    await daemon?.stop();
    loops?.detachAll();
    await cleanup?.();
  });

  it('lists a mounted card with the verdict mounted and its mount points as reasons', async () => {
    const { loop, mnt } = await mountedCard('listed');
    const r = await cli(['drives', '--include-loop', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const d = (JSON.parse(r.stdout) as DriveInfo[]).find((x) => x.path === loop.path);
    assert.deepEqual(d && [d.verdict, d.reasons, d.mountpoints], ['mounted', [`mounted on ${mnt}`], [mnt]]);
    const text = await cli(['drives', '--include-loop']);
    assert.match(text.stdout, new RegExp(`^${loop.path} .* mounted +mounted on ${mnt}$`, 'm'));
  });

  it('asks on the terminal naming what is mounted where, unmounts it, and reports and logs each unmount', async () => {
    const { loop, mnt } = await mountedCard('prompted');
    const run = await runCliOnPty(['flash', image.path, loop.path, '--include-loop'], {
      socketPath: daemon.socketPath,
      answers: [{ prompt: 'Erase this drive? [y/N]', type: 'y' }],
    });
    assert.equal(run.code, 0, run.screen);
    const screen = run.screen.replace(/\r/g, '');
    const plan = screen.slice(0, screen.indexOf('Erase this drive?'));
    assert.ok(plan.includes(`    the whole drive is mounted on ${mnt}\n`), plan);
    assert.ok(plan.includes(`Mounted now, and unmounted before anything is written: ${mnt} (${loop.path})\n`), plan);
    assert.ok(screen.includes(`${loop.path}: unmounted ${mnt} (${loop.path}) before writing\n`), screen);
    assert.deepEqual(mountpointsOf(loop.path), []);
    assert.ok((await deviceBytes(loop, 64 * 1024)).equals(image.data.subarray(0, 64 * 1024)), 'the image is on the card');
    assert.match(daemon.logs(), new RegExp(`INFO +${loop.path}: unmounted ${mnt} \\(${loop.path}\\) before writing`));
    const changes = JSON.parse((await cli(['changes', '--json'])).stdout) as ChangeInfo[];
    const change = JSON.parse((await cli(['change', changes.at(-1)!.id, '--json'])).stdout) as ChangeInfo;
    assert.ok(change.tasks[0]!.log.some((l) => l.message === `${loop.path}: unmounted ${mnt} (${loop.path}) before writing`), JSON.stringify(change.tasks[0]!.log));
  });

  it('carries the unmounts in --json results', async () => {
    const { loop, mnt } = await mountedCard('json');
    const r = await cli(['flash', image.path, loop.path, '--include-loop', '--yes', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { status: string; result: FlashResult };
    assert.equal(out.status, 'Done');
    assert.deepEqual(out.result.targets[0]!.unmounted, [{ device: loop.path, mountpoint: mnt }]);
    assert.deepEqual(mountpointsOf(loop.path), []);
  });

  it('reports bytes written per second, and the image and data sizes apart', async () => {
    const loop = await loops.attach('speed', 40 * MiB, { fill: garbage });
    const r = await cli(['flash', image.path, loop.path, '--include-loop', '--yes']);
    assert.equal(r.code, 0, r.stderr);
    const mapped = image.ranges.reduce((n, x) => n + Math.ceil(x.end / 4096) * 4096 - Math.floor(x.start / 4096) * 4096, 0);
    const mib = (n: number) => `${(n / MiB).toFixed(1)} MiB`;
    assert.ok(r.stdout.startsWith(`${image.path}: 32.0 MiB image, ${mib(mapped)} of data to write (bmap ${image.path}.bmap)\n`), r.stdout);
    assert.match(r.stdout, /^Drive +Result +Written +Verify +Total$/m);
    const row = new RegExp(`^${loop.path} +ok +${mib(mapped).replace('.', '\\.')} in ([\\d.]+)s \\(([\\d.]+) (KiB|MiB|GiB)/s\\) +verified +[\\d.]+s$`, 'm').exec(r.stdout);
    assert.ok(row, r.stdout);
    assert.ok(!/Effective/.test(r.stdout));
  });

  it('refuses a file that is no disk image, naming what it is, before asking anyone; --force writes it', async () => {
    const loop = await loops.attach('not-an-image', 40 * MiB, { fill: garbage });
    const model = join(dir, 'pi3.model');
    await writeFile(model, 'type: model\nauthority-id: brand1\nseries: 16\nbrand-id: brand1\nmodel: my-pi3\n\nAcLBXAQAAQoABgUCW\n');
    const refused = await cli(['flash', model, loop.path, '--include-loop', '--yes']);
    assert.equal(refused.code, 1);
    assert.equal(
      refused.stderr,
      `error: cannot flash ${model}: it has no partition table (MBR or GPT) and no known filesystem at its start: it is an assertion (text starting "type: model"), not an image; flash the .img a build made ("coreforge build"), or pass --force to write it as it is\n`,
    );
    // without --yes and without a terminal, the refusal comes before the question of confirmation
    const asked = await cli(['flash', model, loop.path, '--include-loop']);
    assert.match(asked.stderr, /^error: cannot flash .*pi3\.model: it has no partition table/);
    // the API refuses it too, whoever calls it
    const id = await daemon.transport.call<string>('POST', '/v1/flash', { image: model, targets: [{ path: loop.path, size: loop.size }], 'include-loop': true });
    let change: ChangeInfo;
    do change = await daemon.transport.call<ChangeInfo>('GET', `/v1/changes/${id}`);
    while (!change.ready);
    assert.deepEqual([change.status, change['err-kind']], ['Error', 'unrecognized-image']);
    assert.ok((await deviceBytes(loop, MiB)).every((b) => b === garbage), 'nothing was written');

    const forced = await cli(['flash', model, loop.path, '--include-loop', '--yes', '--force']);
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal((await deviceBytes(loop, 20)).toString(), 'type: model\nauthorit');
  });
});
