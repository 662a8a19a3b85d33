// The build task kind driven through the change engine directly: a real
// state.db, the real pipeline and tools, no express and no socket. A request
// goes in through startBuild (plan.ts), as the API hands it over.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { CoreforgeError } from '../../../../daemon/errors.js';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { daemonCaller } from '../../../../daemon/caller/caller.js';
import { ChangeEngine } from '../../../../daemon/changes/engine.js';
import { ChangeRepository } from '../../../../daemon/changes/repository.js';
import type { ChangeInfo } from '../../../../daemon/changes/types.js';
import { Database } from '../../../../daemon/db/database.js';
import { migrate } from '../../../../daemon/db/migrations.js';
import { runTool } from '../../../../daemon/image/pipeline/exec.js';
import { ImageDigests } from '../../../../daemon/image/pipeline/image-digests.js';
import { startBuild } from '../../../../daemon/image/pipeline/plan.js';
import { BuildRepository } from '../../../../daemon/image/pipeline/repository.js';
import type { BuildRequest } from '../../../../daemon/image/pipeline/request.js';
import { BuildTasks, buildStepTaskKind } from '../../../../daemon/image/pipeline/task.js';
import { PassphraseVault } from '../../../../daemon/keys/passphrases.js';
import { silentLogger } from '../../../../daemon/log.js';
import { FIXTURE_MODELS } from '../../../fixtures/models.js';
import type { BuiltFixture } from '../../../fixtures/snaps.js';
import { makeTempDir } from '../../../helpers/tmp.js';
import { fixtureSnaps, snapsFor, testTrust, type TestTrust } from './helpers.js';

let tmp: { dir: string; cleanup(): Promise<void> };
let built: Record<string, BuiltFixture>;
let trust: TestTrust;
let db: Database;
let engine: ChangeEngine;
let builds: BuildRepository;
let digests: ImageDigests;
const secrets = new PassphraseVault();
/** The clean-up each ended change started (BuildTasks.changeEnded), to wait for. */
const endings = new Map<string, Promise<void>>();
const stateDir = () => join(tmp.dir, 'state');

before(async () => {
  tmp = await makeTempDir('coreforge-build-task-');
  [built, trust] = await Promise.all([fixtureSnaps(join(tmp.dir, 'snaps')), testTrust()]);
  mkdirSync(stateDir());
  db = await Database.open(join(stateDir(), 'state.db'));
  await migrate(db);
  engine = new ChangeEngine(new ChangeRepository(db), silentLogger);
  builds = new BuildRepository(db);
  digests = new ImageDigests(builds, silentLogger);
  const tasks = new BuildTasks({ lookups: () => trust.lookups, repo: builds, digests, exec: runTool, stateDir: stateDir(), logger: silentLogger, secrets });
  engine.register(tasks.kind);
  engine.onStatus((e) => {
    if (['Done', 'Error', 'Abort'].includes(e.status)) endings.set(e.change, tasks.changeEnded(e));
  });
  await engine.start();
});
after(async () => {
  await engine?.stop(1000);
  await digests?.idle();
  await db?.close();
  await tmp.cleanup();
});

/** Waits for a change to end and for its build's clean-up to finish. */
async function ended(id: string): Promise<ChangeInfo> {
  for (;;) {
    const c = await engine.get(id);
    if (c.ready && endings.has(id)) {
      await endings.get(id);
      return c;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

function request(out: string, extra: Partial<BuildRequest> = {}): BuildRequest {
  return {
    model: trust.signModel('my-pi3'),
    'model-source': 'my-pi3.model',
    snaps: snapsFor(built, FIXTURE_MODELS['my-pi3']!),
    channel: 'beta',
    'output-dir': out,
    ...extra,
  };
}

/** What a build left in the daemon's state dir: its work dir, its saved state. */
const leftovers = (id: string) => readdirSync(join(stateDir(), 'builds')).filter((e) => e === id || e.startsWith(`${id}.`));

test('a build started without express runs its steps as tasks into a pi.img and leaves no work dir', async () => {
  const out = join(tmp.dir, 'pi-out');
  const { change, build } = await startBuild({ engine, builds, secrets }, daemonCaller, request(out));
  assert.equal(build, change);
  const c = await ended(change);
  assert.equal(c.status, 'Done', c.err);
  assert.deepEqual(c.tasks.map((t) => [t.kind, t.summary, t.status]), [
    'prepare', 'verify-model', 'read-snaps', 'resolve-snaps', 'unpack-gadget', 'write-seed', 'stage-content', 'build-volumes', 'write-bmap', 'finish',
  ].map((step) => [buildStepTaskKind, step, 'Done']));
  assert.deepEqual(c.data, { params: { ...c.data.params as object }, resume: false }, 'no secrets token without first-boot or cloud-init texts');
  assert.deepEqual(readdirSync(out).sort(), ['build.json', 'pi.img', 'pi.img.bmap', 'seed.manifest', 'snaps.manifest']);
  const table = JSON.parse(execFileSync('sfdisk', ['--json', join(out, 'pi.img')], { encoding: 'utf8' })).partitiontable;
  assert.deepEqual(table.partitions.map((p: { start: number; size: number; type: string }) => [p.start, p.size, p.type]), [[2048, 524288, 'c'], [526336, 65536, '83']]);
  const row = (await builds.get(build))!;
  assert.equal(row.model, 'my-pi3');
  assert.deepEqual(row.artifacts.map((a) => a.name), ['pi.img', 'pi.img.bmap', 'seed.manifest', 'snaps.manifest']);
  assert.equal(JSON.parse(readFileSync(join(out, 'build.json'), 'utf8')).model.source, 'my-pi3.model');
  assert.deepEqual(leftovers(change), []);
});

test('--thru runs the steps up to the one named, a first-boot text stays out of the change data, and without -w nothing is left', async () => {
  const out = join(tmp.dir, 'thru-out');
  const { change } = await startBuild({ engine, builds, secrets }, daemonCaller, request(out, { thru: 'resolve-snaps', 'first-boot': 'identity:\n  keys-from: gh:octo\n' }));
  const c = await ended(change);
  assert.equal(c.status, 'Done', c.err);
  assert.deepEqual(c.tasks.map((t) => t.summary), ['prepare', 'verify-model', 'read-snaps', 'resolve-snaps']);
  assert.equal(typeof c.data.secrets, 'string');
  assert.doesNotMatch(JSON.stringify(c.data), /octo/);
  assert.equal(secrets.peek(c.data.secrets), undefined, 'the vault forgets the text once the build ended');
  assert.deepEqual(readdirSync(out), []);
  // without -w nothing can resume it (--resume needs -w): its work dir and state go
  assert.deepEqual(leftovers(change), []);
});

test('a build that fails at a step leaves no work dir or state under STATE/builds, and no output', async () => {
  const cases: [string, Partial<BuildRequest>, string, RegExp][] = [
    // its first step: nothing saved yet, yet the work dir was made
    ['prepare', { snaps: [join(tmp.dir, 'missing.snap')] }, 'prepare', /cannot use snap file .*missing\.snap: it does not exist; check the --snap path/],
    ['verify-model', { model: '{"type": "model"}' }, 'verify-model', /cannot use model my-pi3\.model: it is an unsigned model \(JSON\); sign it first/],
    ['resolve-snaps', { snaps: snapsFor(built, FIXTURE_MODELS['my-pi3']!).slice(1) }, 'resolve-snaps', /among the local snap files, and no store is configured for builds/],
  ];
  for (const [name, extra, failedStep, err] of cases) {
    const out = join(tmp.dir, `fail-${name}`);
    const { change } = await startBuild({ engine, builds, secrets }, daemonCaller, request(out, extra));
    const c = await ended(change);
    assert.equal(c.status, 'Error', name);
    assert.match(c.err!, err, name);
    assert.deepEqual(c.tasks.filter((t) => t.status === 'Error').map((t) => t.summary), [failedStep], name);
    assert.deepEqual(leftovers(change), [], `${name}: ${readdirSync(join(stateDir(), 'builds')).join(' ')}`);
    assert.deepEqual(readdirSync(out), [], name);
  }
});

test('a build whose task data is not a build\'s is refused when it is created, naming the field at fault', async () => {
  const out = join(tmp.dir, 'bad-data-out');
  const before = (await engine.list('all')).length;
  await assert.rejects(
    engine.create({
      owner: daemonCaller,
      kind: 'build',
      summary: 'Build with a step this coreforged does not have',
      data: { params: { model: 'x', modelSource: 'x', snaps: [], channel: '', outputDir: out, sectorSize: 512, validation: 'ignore', disableConsoleConf: false }, resume: false },
      tasks: [{ kind: buildStepTaskKind, summary: 'bake', data: { step: 'bake', first: true } }],
    }),
    (err: CoreforgeError) => {
      assert.equal(err.kind, 'bad-task-data');
      assert.equal(err.details?.field, 'step');
      assert.match(err.message, /"step" is "bake", expected one of prepare, verify-model, /);
      return true;
    },
  );
  assert.equal((await engine.list('all')).length, before, 'no change was stored');
  assert.equal(existsSync(out), false, 'nothing ran');
});
