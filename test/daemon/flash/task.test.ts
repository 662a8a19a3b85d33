// The flash task kind run by the change engine on a real state.db, without
// express: onto loop devices created here (the only devices it ever writes).
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { daemonCaller } from '../../../daemon/caller/caller.js';
import type { ChangeEngine } from '../../../daemon/changes/engine.js';
import type { ProgressEvent } from '../../../daemon/changes/types.js';
import type { CoreforgeError } from '../../../daemon/errors.js';
import { flashTaskKind, startFlash } from '../../../daemon/flash/task.js';
import { parseFlashTaskData, type FlashTaskData, type FlashTaskResult } from '../../../daemon/flash/task-data.js';
import { useEngine } from '../../helpers/engine.js';
import { MiB, type TestImage, typicalRanges, writeImage } from './images.js';
import { type Loop, LoopDevices, loopSkipReason, deviceBytes } from './loop-devices.js';

const skip = loopSkipReason() ?? false;

const request = (image: string, loops: Loop[], extra: Partial<FlashTaskData> = {}): FlashTaskData => ({
  image,
  targets: loops.map((l) => ({ path: l.path, size: l.size })),
  verify: true,
  'allow-system-drive': [],
  'include-loop': true,
  ...extra,
});

describe('the flash task kind through the change engine', { skip }, () => {
  const use = useEngine();
  let engine: ChangeEngine;
  let dir: string;
  let loops: LoopDevices;
  let image: TestImage;
  let n = 0;
  const device = (size = 24 * MiB) => loops.attach(`dev${n++}`, size, { fill: 0xaa });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'coreforge-flash-task-'));
    loops = new LoopDevices(dir);
    await mkdir(join(dir, 'images'));
    image = await writeImage(join(dir, 'images', 'pi.img'), 16 * MiB, typicalRanges(16 * MiB));
  });
  after(async () => {
    loops.detachAll();
    await rm(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    engine = use.engine();
    engine.register(flashTaskKind({ unmountCommand: ['umount'] }));
  });

  it('writes and verifies two drives in one task, with progress per drive, and reports each in the result', async () => {
    const drives = [await device(), await device()];
    const events: ProgressEvent[] = [];
    engine.onProgress((e) => events.push(e));
    const id = await startFlash(engine, daemonCaller, request(image.path, drives));
    const change = await use.waitReady(id);
    assert.equal(change.status, 'Done', change.err);
    assert.equal(change.summary, `Flash ${image.path} onto ${drives[0]!.path}, ${drives[1]!.path}`);
    assert.deepEqual(change.data, { image: image.path, targets: drives.map((d) => d.path) });
    const result = change.result as FlashTaskResult;
    assert.deepEqual(
      result.targets.map((t) => [t.path, t.ok, t.verified, t['bytes-written'], t.error]),
      drives.map((d) => [d.path, true, true, 16 * MiB, null]),
    );
    for (const d of drives) assert.ok((await deviceBytes(d, image.size)).equals(image.data), `${d.path} holds the image`);
    for (const d of drives) {
      const last = events.filter((e) => e.target === d.path && e.phase === 'verifying').at(-1);
      assert.deepEqual([last?.bytes, last?.total], [16 * MiB, 16 * MiB], `${d.path} reported verifying to the end`);
    }
  });

  it("fails a drive too small for the image with its kind, and the drive's facts in err-details", async () => {
    const small = await device(8 * MiB);
    const before = await deviceBytes(small, MiB);
    const change = await use.waitReady(await startFlash(engine, daemonCaller, request(image.path, [small])));
    assert.equal(change.status, 'Error');
    assert.equal(change['err-kind'], 'drive-too-small');
    assert.match(change.err!, new RegExp(`^cannot flash ${small.path}: `));
    assert.deepEqual(change['err-details'], {
      drive: small.path,
      verdict: 'too-small',
      reasons: [`too small: ${8 * MiB} bytes for a ${16 * MiB}-byte image`],
    });
    assert.ok((await deviceBytes(small, MiB)).equals(before), 'the drive is untouched');
  });

  it('refuses a loop device named without include-loop before creating a change', async () => {
    const loop = await device();
    await assert.rejects(startFlash(engine, daemonCaller, request(image.path, [loop], { 'include-loop': false })), {
      kind: 'drive-not-found',
      details: { drive: loop.path },
    });
    assert.deepEqual(await engine.list('all'), []);
  });
});

describe('flash task data', () => {
  const good = { image: '/img/pi.img', targets: [{ path: '/dev/sdz', size: 4096, serial: 'S1' }], verify: false, 'allow-system-drive': [], 'include-loop': true };

  it('parses the data a flash change stores, with defaults for what older changes left out', () => {
    assert.deepEqual(parseFlashTaskData(good), good);
    assert.deepEqual(parseFlashTaskData({ image: '/i.img', targets: [{ path: '/dev/sdz', size: 1 }], 'allow-system-drive': [], force: true }), {
      image: '/i.img',
      targets: [{ path: '/dev/sdz', size: 1 }],
      verify: true,
      'allow-system-drive': [],
      'include-loop': false,
      force: true,
    });
  });

  const bad: [string, unknown, string, string][] = [
    ['no image', { ...good, image: undefined }, 'image', '"image" must be a non-empty string'],
    ['no targets', { ...good, targets: [] }, 'targets', '"targets" must list at least one drive'],
    ['targets that is no list', { ...good, targets: '/dev/sdz' }, 'targets', '"targets" must be a list'],
    ['a target that is a string', { ...good, targets: ['/dev/sdz'] }, 'targets[0]', '"targets[0]" must be a JSON object'],
    ['a target without size', { ...good, targets: [{ path: '/dev/sdz' }] }, 'targets[0].size', '"targets[0].size" must be a size in bytes'],
    ['a negative size', { ...good, targets: [{ path: '/dev/sdz', size: -1 }] }, 'targets[0].size', '"targets[0].size" must be a size in bytes'],
    ['a serial that is a number', { ...good, targets: [{ path: '/dev/sdz', size: 1, serial: 7 }] }, 'targets[0].serial', '"targets[0].serial" must be a non-empty string'],
    ['verify that is a string', { ...good, verify: 'no' }, 'verify', '"verify" must be true or false'],
    ['an allow list of numbers', { ...good, 'allow-system-drive': [1] }, 'allow-system-drive[0]', '"allow-system-drive[0]" must be a drive path'],
  ];
  for (const [name, data, field, message] of bad) {
    it(`refuses ${name}`, () => {
      assert.throws(() => parseFlashTaskData(data), (err: CoreforgeError) => {
        assert.deepEqual([err.kind, err.message, err.details], ['bad-task-data', message, { field }]);
        return true;
      });
    });
  }
});
