import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BadTaskDataError, parseBuildChangeData, parseBuildTaskData } from '../../../../daemon/image/pipeline/task-data.js';
import { isCoreforgeError } from '../../../../daemon/errors.js';

const params = {
  model: 'type: model\n...',
  modelSource: 'pi3.model',
  snaps: ['/home/u/pi.snap'],
  storeSnaps: [{ name: 'hello', channel: 'edge' }],
  revisions: { 'pi-kernel': 42 },
  channel: 'beta',
  outputDir: '/home/u/out',
  imageName: 'pi3.img',
  workDir: '/home/u/work',
  imageSize: { pi: 4294967296 },
  sectorSize: 512,
  validation: 'ignore',
  disableConsoleConf: false,
};

const tail = 'this coreforged did not store it (another version, or an edited state.db): start the build again';

test('good build change data reads back as it was stored', () => {
  const data = { params, resume: true, secrets: '6f1c0d9e-token' };
  assert.deepEqual(parseBuildChangeData(JSON.parse(JSON.stringify(data))), data);
  const minimal = { params: { ...params, storeSnaps: undefined, revisions: undefined, imageName: undefined, workDir: undefined, imageSize: undefined }, resume: false };
  const stored = JSON.parse(JSON.stringify(minimal));
  assert.deepEqual(parseBuildChangeData(stored), stored);
  assert.deepEqual(parseBuildChangeData({ params: { ...params, imageSize: 1048576 }, resume: false }).params.imageSize, 1048576);
});

test('good build task data reads back as it was stored', () => {
  assert.deepEqual(parseBuildTaskData({ step: 'prepare', first: true }), { step: 'prepare', first: true });
  assert.deepEqual(parseBuildTaskData({ step: 'finish', first: false }), { step: 'finish', first: false });
});

test('each bad field of a build task names the field and what was expected', () => {
  const cases: [unknown, string][] = [
    [null, '"data" is null, expected an object'],
    [['prepare'], '"data" is ["prepare"], expected an object'],
    [{ first: true }, '"step" is missing, expected one of prepare, verify-model, read-snaps, resolve-snaps, unpack-gadget, write-seed, stage-content, build-volumes, write-bmap, finish'],
    [{ step: 'bake', first: true }, '"step" is "bake", expected one of prepare, verify-model, read-snaps, resolve-snaps, unpack-gadget, write-seed, stage-content, build-volumes, write-bmap, finish'],
    [{ step: 'prepare' }, '"first" is missing, expected true or false'],
    [{ step: 'prepare', first: 'yes' }, '"first" is "yes", expected true or false'],
    [{ step: 'prepare', first: true, until: 'finish' }, '"until" is "finish", expected no such field (the fields are step, first)'],
  ];
  for (const [data, problem] of cases) {
    assert.throws(() => parseBuildTaskData(data), (err: unknown) => {
      assert.ok(err instanceof BadTaskDataError && isCoreforgeError(err));
      assert.equal(err.kind, 'bad-task-data');
      assert.equal(err.message, `cannot use the build task data: ${problem}; ${tail}`);
      return true;
    }, JSON.stringify(data));
  }
});

test('each bad field of a build change names the field and what was expected', () => {
  const withParams = (change: Record<string, unknown>) => ({ params: { ...params, ...change }, resume: false });
  const cases: [unknown, string, string][] = [
    ['nope', 'data', '"data" is "nope", expected an object'],
    [{ resume: false }, 'params', '"params" is missing, expected an object'],
    [{ params }, 'resume', '"resume" is missing, expected true or false'],
    [{ params, resume: 'no' }, 'resume', '"resume" is "no", expected true or false'],
    [{ params, resume: false, secrets: 7 }, 'secrets', '"secrets" is 7, expected a string'],
    [{ params, resume: false, owner: 0 }, 'owner', '"owner" is 0, expected no such field (the fields are params, resume, secrets)'],
    [withParams({ model: 3 }), 'params.model', '"params.model" is 3, expected a string'],
    [withParams({ modelSource: undefined }), 'params.modelSource', '"params.modelSource" is missing, expected a string'],
    [withParams({ snaps: 'pi.snap' }), 'params.snaps', '"params.snaps" is "pi.snap", expected a list of absolute .snap paths'],
    [withParams({ snaps: ['pi.snap'] }), 'params.snaps', '"params.snaps" is ["pi.snap"], expected a list of absolute .snap paths'],
    [withParams({ storeSnaps: [{ name: 'hello' }] }), 'params.storeSnaps', '"params.storeSnaps" is [{"name":"hello"}], expected a list of {name, channel}'],
    [withParams({ revisions: { 'pi-kernel': 0 } }), 'params.revisions', '"params.revisions" is {"pi-kernel":0}, expected a map of snap names to positive revisions'],
    [withParams({ channel: null }), 'params.channel', '"params.channel" is null, expected a string'],
    [withParams({ outputDir: 'out' }), 'params.outputDir', '"params.outputDir" is "out", expected an absolute path'],
    [withParams({ imageName: 1 }), 'params.imageName', '"params.imageName" is 1, expected a string'],
    [withParams({ workDir: 'work' }), 'params.workDir', '"params.workDir" is "work", expected an absolute path'],
    [withParams({ imageSize: -1 }), 'params.imageSize', '"params.imageSize" is -1, expected a size in bytes, or a map of volume names to sizes in bytes'],
    [withParams({ imageSize: { pc: '4G' } }), 'params.imageSize', '"params.imageSize" is {"pc":"4G"}, expected a size in bytes, or a map of volume names to sizes in bytes'],
    [withParams({ sectorSize: 1024 }), 'params.sectorSize', '"params.sectorSize" is 1024, expected one of 512, 4096'],
    [withParams({ validation: 'strict' }), 'params.validation', '"params.validation" is "strict", expected one of ignore, enforce'],
    [withParams({ disableConsoleConf: 1 }), 'params.disableConsoleConf', '"params.disableConsoleConf" is 1, expected true or false'],
    [withParams({ firstBoot: 'identity: {}' }), 'params.firstBoot', '"params.firstBoot" is "identity: {}", expected no such field (the first-boot text is held in memory only, never stored)'],
    [withParams({ cloudInit: '#cloud-config' }), 'params.cloudInit', '"params.cloudInit" is "#cloud-config", expected no such field (the cloud-init text is held in memory only, never stored)'],
    [
      withParams({ until: 'finish' }),
      'params.until',
      '"params.until" is "finish", expected no such field (the fields are model, modelSource, snaps, storeSnaps, revisions, channel, outputDir, imageName, workDir, imageSize, sectorSize, validation, disableConsoleConf)',
    ],
  ];
  for (const [data, field, problem] of cases) {
    assert.throws(() => parseBuildChangeData(data), (err: unknown) => {
      assert.ok(err instanceof BadTaskDataError);
      assert.equal(err.kind, 'bad-task-data');
      assert.deepEqual(err.details, { field });
      assert.equal(err.message, `cannot use the build change data: ${problem}; ${tail}`);
      return true;
    }, JSON.stringify(data));
  }
});

test('a long bad value is shortened in the message', () => {
  assert.throws(() => parseBuildTaskData({ step: 'x'.repeat(100), first: true }), {
    message: new RegExp(`^cannot use the build task data: "step" is "${'x'.repeat(56)}\\.\\.\\., expected one of prepare,`),
  });
});
