// Flashing through the real coreforged and the real coreforge CLI, onto loop
// devices created here (the only devices these tests ever write).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EventStream } from '../../../client/events.js';
import type { ApiResponse, ChangeInfo, DriveInfo, DrivesEvent, FlashResult } from '../../../daemon/api/types.js';
import { runCli, startDaemon, waitChangeReady, type DaemonProcess } from '../../helpers/daemon.js';
import { bmapFor, compressFile, haveTool, MiB, type TestImage, typicalRanges, writeImage } from '../flash/images.js';
import { type Loop, LoopDevices, loopSkipReason, deviceBytes } from '../flash/loop-devices.js';

const skip = loopSkipReason() ?? false;
const garbage = 0xaa;

function assertHolds(device: Buffer, image: TestImage, ranges = [{ start: 0, end: image.size }]): void {
  for (const r of ranges) assert.ok(device.subarray(r.start, r.end).equals(image.data.subarray(r.start, r.end)), `bytes ${r.start}-${r.end - 1} hold the image`);
}

describe('flashing through coreforged and the coreforge CLI', { skip }, () => {
  let dir: string;
  let loops: LoopDevices;
  let daemon: DaemonProcess;
  let image: TestImage;
  let n = 0;
  const device = (size = 40 * MiB) => loops.attach(`dev${n++}`, size, { fill: garbage });
  const cli = (args: string[], timeoutMs = 60_000) => runCli(args, { socketPath: daemon.socketPath, timeoutMs });
  const flashJson = async (args: string[]) => {
    const run = await cli(['flash', ...args, '--include-loop', '--yes', '--json']);
    return { ...run, out: JSON.parse(run.stdout) as { change: string; status: string; err?: string; 'err-kind'?: string; result: FlashResult | null } };
  };
  const waitReady = (id: string): Promise<ChangeInfo> => waitChangeReady(daemon.transport, id);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'coreforge-api-flash-'));
    loops = new LoopDevices(dir);
    await mkdir(join(dir, 'images'));
    image = await writeImage(join(dir, 'images', 'pi.img'), 32 * MiB, typicalRanges(32 * MiB));
    daemon = await startDaemon({ socketPath: join(dir, 'api.sock'), stateDir: join(dir, 'state') });
  });
  after(async () => {
    await daemon?.stop();
    loops.detachAll();
    await rm(dir, { recursive: true, force: true });
  });

  it('lists loop devices only when asked, with verdicts against the image', async () => {
    const small = await device(16 * MiB);
    const fine = await device();
    const hidden = await daemon.transport.call<DriveInfo[]>('GET', '/v1/drives');
    assert.ok(!hidden.some((d) => d.loop), 'no loop device without include-loop');
    const drives = await daemon.transport.call<DriveInfo[]>('GET', `/v1/drives?include-loop=true&image=${encodeURIComponent(image.path)}`);
    const s = drives.find((d) => d.path === small.path)!;
    assert.equal(s.verdict, 'too-small');
    assert.deepEqual(s.reasons, [`too small: ${16 * MiB} bytes for a ${32 * MiB}-byte image`]);
    const f = drives.find((d) => d.path === fine.path)!;
    assert.deepEqual([f.verdict, f.size, f.loop, f['backing-file']], ['ok', 40 * MiB, true, fine.backing]);
    const text = await cli(['drives', '--include-loop']);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^Device\s+Size\s+Model\s+Bus\s+Removable\s+Verdict\s+Reasons\n/);
    assert.match(text.stdout, new RegExp(`${fine.path}\\s+40\\.0 MiB\\s+loop: ${fine.backing}\\s+loop\\s+no\\s+ok`));
  });

  it('flashes a raw image with coreforge flash and reads the device back equal', async () => {
    const loop = await device();
    const run = await cli(['flash', image.path, loop.path, '--include-loop', '--yes']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, new RegExp(`${loop.path}\\s+ok\\s+32\\.0 MiB in [\\d.]+s \\(.*\\)\\s+verified\\s+`));
    assert.match(run.stderr, new RegExp(`^${loop.path}: flashing\\.\\.\\.\\n${loop.path}: verifying\\.\\.\\.\\n$`), 'one line per phase without a terminal');
    assertHolds(await deviceBytes(loop), image);
  });

  for (const [kind, tool] of [['gzip', 'gzip'], ['xz', 'xz'], ['zstd', 'zstd']] as const) {
    it(`flashes a ${kind} image streamed through its decompressor`, { skip: !haveTool(tool) && `${tool} is not installed` }, async () => {
      const sub = await mkdtemp(join(dir, `${kind}-`));
      const img = await writeImage(join(sub, 'pi.img'), 32 * MiB, typicalRanges(32 * MiB), 13);
      const compressed = compressFile(img.path, kind);
      await rm(img.path);
      const loop = await device();
      const { code, out, stderr } = await flashJson([compressed, loop.path]);
      assert.equal(code, 0, stderr);
      assert.equal(out.status, 'Done');
      assert.deepEqual(out.result!.targets.map((t) => [t.path, t.ok, t.verified, t['bytes-written'], t.error]), [[loop.path, true, true, img.size, null]]);
      assertHolds(await deviceBytes(loop), img);
    });
  }

  it('writes only the mapped ranges of a bmap found beside the image', async () => {
    const sub = await mkdtemp(join(dir, 'bmap-'));
    const img = await writeImage(join(sub, 'pi.img'), 32 * MiB, typicalRanges(32 * MiB), 17);
    await writeFile(`${img.path}.bmap`, bmapFor(img));
    const loop = await device();
    const { code, out, stderr } = await flashJson([img.path, loop.path]);
    assert.equal(code, 0, stderr);
    const mapped = img.ranges.reduce((sum, r) => sum + r.end - r.start, 0);
    assert.deepEqual([out.result!.bmap, out.result!['mapped-bytes'], out.result!.targets[0]!['bytes-written']], [`${img.path}.bmap`, mapped, mapped]);
    const bytes = await deviceBytes(loop);
    assertHolds(bytes, img, img.ranges);
    assert.equal(bytes[20 * MiB], garbage, 'a hole of the bmap is not written');
  });

  it('flashes three loop devices in one change and skips verification with --no-verify', async () => {
    const three = [await device(), await device(), await device()];
    const { code, out, stderr } = await flashJson([image.path, ...three.map((l) => l.path), '--no-verify']);
    assert.equal(code, 0, stderr);
    assert.deepEqual(out.result!.targets.map((t) => [t.path, t.ok, t.verified]), three.map((l) => [l.path, true, false]));
    for (const loop of three) assertHolds(await deviceBytes(loop), image);
    const change = await daemon.transport.call<ChangeInfo>('GET', `/v1/changes/${out.change}`);
    assert.equal(change.tasks.length, 1, 'one task writes every drive from one read');
  });

  it('fails the one drive that runs out of space, naming it and the byte range, while the others verify', async (t) => {
    const small = join(dir, 'small-fs');
    await mkdir(small);
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', small]);
    } catch {
      t.skip('cannot mount a tmpfs here');
      return;
    }
    try {
      const good = [await device(), await device()];
      const failing = await loops.attach('on-small-fs', 40 * MiB, { dir: small });
      const run = await cli(['flash', image.path, good[0]!.path, failing.path, good[1]!.path, '--include-loop', '--yes']);
      assert.equal(run.code, 1);
      const message = new RegExp(`^error: cannot write ${failing.path} at bytes \\d+-\\d+: no space left on the drive; use a bigger drive or a smaller image$`, 'm');
      assert.match(run.stderr, message);
      assert.match(run.stdout, new RegExp(`${good[0]!.path}\\s+ok\\s.*verified`));
      assert.match(run.stdout, new RegExp(`${failing.path}\\s+FAILED\\s.*not verified`));
      const [change] = (await daemon.transport.call<ChangeInfo[]>('GET', '/v1/changes?select=ready')).filter((c) => c.kind === 'flash').slice(-1);
      assert.equal(change!.status, 'Error');
      assert.equal(change!['err-kind'], 'no-space');
      // the failing drive and its byte range reach the API as data, not only in the message
      const details = change!['err-details'] as { drive: string; range: { start: number; end: number }; errno: string };
      assert.deepEqual([details.drive, details.errno], [failing.path, 'ENOSPC']);
      assert.ok(Number.isSafeInteger(details.range.start) && details.range.end > details.range.start, JSON.stringify(details));
      assert.ok(change!.err!.includes(`at bytes ${details.range.start}-${details.range.end - 1}`), 'the message names the same range');
      assert.match(change!.err!, new RegExp(`^cannot write ${failing.path} at bytes \\d+-\\d+: no space left on the drive; use a bigger drive or a smaller image; 2 other drives flashed fine$`));
      const result = change!.result as FlashResult;
      assert.deepEqual(result.targets.map((x) => [x.path, x.ok, x.verified, x.error?.kind ?? null]), [
        [good[0]!.path, true, true, null],
        [failing.path, false, false, 'no-space'],
        [good[1]!.path, true, true, null],
      ]);
      for (const loop of good) assertHolds(await deviceBytes(loop), image);
    } finally {
      loops.detachAll();
      execFileSync('umount', [small]);
    }
  });

  it('aborts a flash mid-write and leaves the first MiB zeroed', async () => {
    // gzip without a bmap is measured first, then decompressed again while writing: slow enough to abort in flight.
    const sub = await mkdtemp(join(dir, 'abort-'));
    const dense = await writeImage(join(sub, 'dense.img'), 64 * MiB, [{ start: 0, end: 64 * MiB }], 19);
    const gz = compressFile(dense.path, 'gzip');
    const loop = await device(72 * MiB);
    const stream = new EventStream(daemon.socketPath);
    try {
      const id = await daemon.transport.call<string>('POST', '/v1/flash', { image: gz, targets: [{ path: loop.path, size: loop.size }], 'include-loop': true });
      const flashing = new Promise<void>((resolve) => stream.onProgress((e) => e.change === id && e.phase === 'flashing' && e.bytes > 0 && resolve()));
      await stream.subscribe(id);
      await flashing;
      // POST abort at once (the CLI takes a second to start; `coreforge abort` is the same call, shown below).
      const aborted = await daemon.transport.call<ChangeInfo>('POST', `/v1/changes/${id}`, { action: 'abort' });
      assert.equal(aborted.status, 'Abort');
      const again = await cli(['abort', id]);
      assert.deepEqual([again.code, again.stderr], [1, `error: cannot abort change ${id}: it is already Abort; only changes in Do or Doing can be aborted\n`]);
      const change = await waitReady(id);
      assert.deepEqual([change.status, change.tasks[0]!.status, change['err-kind']], ['Abort', 'Abort', 'aborted']);
      const bytes = await deviceBytes(loop);
      assert.ok(bytes.subarray(0, MiB).every((b) => b === 0), 'no partition table is left');
      assert.ok(bytes.subarray(MiB, 2 * MiB).equals(dense.data.subarray(MiB, 2 * MiB)), 'it was mid-write');
    } finally {
      stream.close();
    }
  });

  it('pushes drive attach and detach events to clients subscribed to drives', async () => {
    const { io } = await import('socket.io-client');
    const { unixSocketAgent } = await import('../../../client/transport.js');
    const socket = io('http://localhost', { path: '/socket.io', transports: ['websocket'], agent: unixSocketAgent(daemon.socketPath) as unknown as string });
    try {
      const events: DrivesEvent[] = [];
      socket.on('drives', (e: DrivesEvent) => events.push(e));
      await socket.timeout(10_000).emitWithAck('subscribe', { topic: 'drives' });
      const loop = await device(24 * MiB);
      const seen = async (pred: (e: DrivesEvent) => boolean) => {
        for (let i = 0; i < 150 && !events.some(pred); i++) await new Promise((r) => setTimeout(r, 100));
        assert.ok(events.some(pred), `saw ${JSON.stringify(events.map((e) => [e.attached.map((d) => d.path), e.detached.map((d) => d.path)]))}`);
      };
      await seen((e) => e.attached.some((d) => d.path === loop.path && d.size === 24 * MiB));
      execFileSync('losetup', ['-d', loop.path]);
      await seen((e) => e.detached.some((d) => d.path === loop.path));
    } finally {
      socket.close();
    }
  });

  describe('refusals: nothing is written', () => {
    let systemDrive: DriveInfo | undefined;
    before(async () => {
      const drives = await daemon.transport.call<DriveInfo[]>('GET', '/v1/drives');
      systemDrive = drives.find((d) => d.verdict === 'system' && d.mountpoints.includes('/'));
    });

    const cases: { name: string; kind: string; message: (p: { path: string; image: string }) => RegExp; setup: () => Promise<{ image?: string; target: { path: string; size: number }; loop?: Loop }> }[] = [
      {
        name: 'the disk holding /',
        kind: 'system-drive',
        message: ({ path }) => new RegExp(`^cannot flash ${path}: system drive: holds /.*; pick another drive; if you really mean to erase this one, name it with --allow-system-drive$`),
        setup: async () => {
          assert.ok(systemDrive, 'the disk holding / is listed');
          return { target: { path: systemDrive.path, size: systemDrive.size } };
        },
      },
      {
        name: 'a read-only loop device',
        kind: 'read-only-drive',
        message: ({ path }) => new RegExp(`^cannot flash ${path}: read-only; slide the write-protect switch off`),
        setup: async () => {
          const loop = await loops.attach(`ro${n++}`, 40 * MiB, { readOnly: true, fill: garbage });
          return { target: { path: loop.path, size: loop.size }, loop };
        },
      },
      {
        name: 'a drive smaller than the image',
        kind: 'drive-too-small',
        message: ({ path }) => new RegExp(`^cannot flash ${path}: too small: ${16 * MiB} bytes for a ${32 * MiB}-byte image; use a bigger drive$`),
        setup: async () => {
          const loop = await device(16 * MiB);
          return { target: { path: loop.path, size: loop.size }, loop };
        },
      },
      {
        name: 'a path that is not a block device',
        kind: 'not-a-block-device',
        message: ({ path }) => new RegExp(`^cannot flash ${path}: it is a regular file, not a block device`),
        setup: async () => {
          const file = join(dir, 'not-a-drive');
          await writeFile(file, Buffer.alloc(40 * MiB));
          return { target: { path: file, size: 40 * MiB } };
        },
      },
      {
        name: 'a missing image',
        kind: 'image-not-found',
        message: ({ image: img }) => new RegExp(`^cannot flash ${img}: no such file; check the path`),
        setup: async () => {
          const loop = await device();
          return { image: join(dir, 'images', 'missing.img'), target: { path: loop.path, size: loop.size }, loop };
        },
      },
      {
        name: 'a drive whose size changed since it was listed',
        kind: 'drive-changed',
        message: ({ path }) => new RegExp(`^cannot flash ${path}: it is now ${40 * MiB} bytes, not ${40 * MiB - 4096} as listed; the card was swapped or resized`),
        setup: async () => {
          const loop = await device();
          return { target: { path: loop.path, size: loop.size - 4096 }, loop };
        },
      },
    ];
    for (const c of cases) {
      it(`refuses ${c.name} with kind ${c.kind}`, async () => {
        const { image: img = image.path, target, loop } = await c.setup();
        const before = loop ? await deviceBytes(loop, 2 * MiB) : null;
        const id = await daemon.transport.call<string>('POST', '/v1/flash', { image: img, targets: [target], 'include-loop': true });
        const change = await waitReady(id);
        assert.equal(change.status, 'Error');
        assert.equal(change['err-kind'], c.kind);
        assert.match(change.err!, c.message({ path: target.path, image: img }));
        if (loop) assert.ok((await deviceBytes(loop, 2 * MiB)).equals(before!), 'the drive is untouched');
      });
    }

    const badRequests: { name: string; body: Record<string, unknown>; status: number; kind: string; message: RegExp }[] = [
      { name: 'a relative image path', body: { image: 'pi.img', targets: [{ path: '/dev/loop0', size: 1 }] }, status: 400, kind: 'bad-request', message: /^cannot flash: image "pi\.img" is not an absolute path/ },
      { name: 'no targets', body: { image: '/x.img', targets: [] }, status: 400, kind: 'bad-request', message: /^cannot flash: "targets" must list at least one drive/ },
      { name: 'a target without size', body: { image: '/x.img', targets: [{ path: '/dev/loop0' }] }, status: 400, kind: 'bad-request', message: /^cannot flash \/dev\/loop0: targets\[0\]\.size must be the drive's size in bytes/ },
      { name: 'a target that is not an object', body: { image: '/x.img', targets: ['/dev/loop0'] }, status: 400, kind: 'bad-request', message: /^cannot flash: targets\[0\] must be an object/ },
      { name: 'verify that is not a boolean', body: { image: '/x.img', targets: [{ path: '/dev/loop0', size: 1 }], verify: 'no' }, status: 400, kind: 'bad-request', message: /^cannot flash: "verify" must be true or false$/ },
      { name: 'an unknown field', body: { image: '/x.img', targets: [{ path: '/dev/loop0', size: 1 }], verfy: false }, status: 400, kind: 'bad-request', message: /^cannot flash: unknown field "verfy"/ },
      { name: 'a loop device without include-loop', body: { image: '/x.img', targets: [{ path: '/dev/loop0', size: 1 }] }, status: 404, kind: 'drive-not-found', message: /^cannot flash \/dev\/loop0: it is a loop device, and loop devices are hidden unless asked for; pass --include-loop/ },
    ];
    for (const c of badRequests) {
      it(`answers ${c.name} with ${c.status} ${c.kind} and starts no change`, async () => {
        const res = (await daemon.transport.raw('POST', '/v1/flash', c.body)) as ApiResponse & { result: { kind: string; message: string } };
        assert.deepEqual([res.type, res['status-code'], res.result.kind], ['error', c.status, c.kind]);
        assert.match(res.result.message, c.message);
        if (c.kind === 'drive-not-found') assert.deepEqual((res.result as { value?: unknown }).value, { drive: '/dev/loop0' });
      });
    }
  });

  describe('confirmation', () => {
    it('refuses to flash without --yes when standard input is not a terminal', async () => {
      const loop = await device();
      const run = await cli(['flash', image.path, loop.path, '--include-loop']);
      assert.equal(run.code, 1);
      assert.equal(run.stderr, `error: cannot flash without confirmation: standard input is not a terminal; pass --yes to erase ${loop.path} (40.0 MiB loop: ${loop.backing}) without asking\n`);
      assert.ok((await deviceBytes(loop, MiB)).every((b) => b === garbage), 'the drive is untouched');
    });

    it('refuses a drive the listing refuses before asking or posting anything', async () => {
      const loop = await loops.attach(`ro${n++}`, 40 * MiB, { readOnly: true });
      const run = await cli(['flash', image.path, loop.path, '--include-loop', '--yes']);
      assert.equal(run.code, 1);
      assert.equal(run.stderr, `error: cannot flash ${loop.path}: read-only; slide the write-protect switch off (or attach the loop device read-write) and try again\n`);
    });

    it('refuses a loop device named without --include-loop, and a path that is not a drive, through the daemon', async () => {
      const loop = await device();
      const hidden = await cli(['flash', image.path, loop.path, '--yes']);
      assert.deepEqual([hidden.code, hidden.stderr], [1, `error: cannot flash ${loop.path}: it is a loop device, and loop devices are hidden unless asked for; pass --include-loop ("include-loop": true) to flash it\n`]);
      const file = join(dir, 'images', 'pi.img');
      const notDrive = await cli(['flash', image.path, file, '--include-loop', '--yes']);
      assert.equal(notDrive.code, 1);
      assert.match(notDrive.stderr, new RegExp(`^error: cannot flash ${file}: it is a regular file, not a block device`));
      assert.ok((await deviceBytes(loop, MiB)).every((b) => b === garbage), 'the drive is untouched');
    });

    it('shows what will be erased and writes nothing unless the answer is yes', async () => {
      const pty = await import('node-pty');
      const loop = await device();
      const { cliEntry, repoRoot } = await import('../../helpers/daemon.js');
      const ask = (answer: string) =>
        new Promise<{ output: string; code: number }>((resolve) => {
          const term = pty.spawn(process.execPath, ['--import', 'tsx', cliEntry, 'flash', image.path, loop.path, '--include-loop'], {
            cwd: repoRoot,
            cols: 120,
            env: { ...process.env, COREFORGE_SOCKET: daemon.socketPath } as Record<string, string>,
          });
          let output = '';
          let answered = false;
          term.onData((d) => {
            output += d;
            if (!answered && output.includes('[y/N]')) {
              answered = true;
              term.write(`${answer}\r`);
            }
          });
          term.onExit(({ exitCode }) => resolve({ output, code: exitCode }));
        });
      const plain = (s: string) => s.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '').replace(/\r+\n/g, '\n');
      const no = await ask('n');
      assert.equal(no.code, 1);
      assert.match(plain(no.output), new RegExp(`Flashing ${image.path} will erase everything on:\\n  ${loop.path}  40\\.0 MiB  loop: ${loop.backing} \\(loop\\)\\n    no partitions\\n`));
      assert.match(plain(no.output), /Erase this drive\? \[y\/N\] n\nnothing was written\n$/);
      assert.ok((await deviceBytes(loop, MiB)).every((b) => b === garbage), 'the drive is untouched');
      const yes = await ask('y');
      assert.equal(yes.code, 0, yes.output);
      assert.match(plain(yes.output), new RegExp(`${loop.path}\\s+ok\\s.*verified`));
      assert.match(yes.output, new RegExp(`\\r\\x1b\\[K${loop.path}  (flashing|verifying)`), 'a progress line is drawn on the terminal');
      assertHolds(await deviceBytes(loop), image);
    });
  });
});
