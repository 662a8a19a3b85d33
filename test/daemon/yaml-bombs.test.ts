import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { GadgetLayoutResult } from '../../daemon/api/types.js';
import { isCoreforgeError } from '../../daemon/errors.js';
import { runTool } from '../../daemon/image/pipeline/exec.js';
import { LocalSnapSource } from '../../daemon/image/pipeline/local-snaps.js';
import { PI_18_GADGET_YAML } from '../fixtures/catalog/gadget-yamls.js';
import { mksquashfs } from '../fixtures/squashfs.js';
import { runCli, startDaemon, type DaemonProcess } from '../helpers/daemon.js';
import { makeTempDir } from '../helpers/tmp.js';
import { aliasBomb } from '../helpers/yaml-bomb.js';

// Issue 12, finding 7: a 516-byte gadget.yaml held coreforged for over 10
// minutes at 3 GB (every other request waiting), and a level-6 bomb made a build
// take 88 s. These are the same attacks through the daemon: each is refused in
// well under a second, and the daemon keeps answering.

/** A gadget.yaml whose one volume's structure list is the bomb's last level: 9^levels structures once expanded. */
function gadgetBomb(levels: number): string {
  return `${aliasBomb(levels)}volumes:\n  pc:\n    bootloader: grub\n    structure: *l${levels - 1}\n`;
}

const aliasRule = 'has aliases that expand it by more than 10000 nodes (a YAML alias bomb?); write the repeated parts out instead of nesting aliases';

/** A request's error envelope and how long the daemon took to answer it. */
async function timedError(daemon: DaemonProcess, path: string, body: unknown): Promise<{ ms: number; kind: string; message: string }> {
  const started = performance.now();
  const res = await daemon.transport.raw(`POST`, path, body);
  const ms = performance.now() - started;
  assert.equal(res.type, 'error', JSON.stringify(res));
  const { kind, message } = (res as unknown as { result: { kind: string; message: string } }).result;
  return { ms, kind, message };
}

describe('YAML alias bombs sent to coreforged', { timeout: 120_000 }, () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let daemon: DaemonProcess;

  before(async () => {
    ({ dir, cleanup } = await makeTempDir());
    daemon = await startDaemon({ socketPath: join(dir, 'd.sock'), stateDir: join(dir, 'state') });
  });
  after(async () => {
    // a daemon stuck expanding a bomb does not answer SIGTERM: kill it after a grace period
    const timer = setTimeout(() => daemon.proc.kill('SIGKILL'), 10_000);
    await daemon.stop();
    clearTimeout(timer);
    await cleanup();
  });

  it('gadget validate refuses a level 6 and a level 9 bomb in well under a second, as text, a gadget.yaml file and a gadget directory', async () => {
    for (const levels of [6, 9]) {
      const text = gadgetBomb(levels);
      assert.ok(text.length < 600, `the level ${levels} bomb is ${text.length} bytes`);
      const expected = { kind: 'invalid-gadget', message: `cannot parse gadget metadata: gadget.yaml ${aliasRule}` };

      const asText = await timedError(daemon, '/v1/gadget/validate', { yaml: text });
      assert.deepEqual({ kind: asText.kind, message: asText.message }, expected);
      assert.ok(asText.ms < 1000, `level ${levels} as text: ${asText.ms} ms`);

      const file = join(dir, `bomb-${levels}.yaml`);
      await writeFile(file, text);
      const asFile = await timedError(daemon, '/v1/gadget/validate', { path: file });
      assert.deepEqual({ kind: asFile.kind, message: asFile.message }, expected);
      assert.ok(asFile.ms < 1000, `level ${levels} as a file: ${asFile.ms} ms`);

      const gadgetDir = join(dir, `gadget-${levels}`);
      await mkdir(join(gadgetDir, 'meta'), { recursive: true });
      await writeFile(join(gadgetDir, 'meta/gadget.yaml'), text);
      const asDir = await timedError(daemon, '/v1/gadget/validate', { path: gadgetDir });
      assert.deepEqual({ kind: asDir.kind, message: asDir.message }, expected);
      assert.ok(asDir.ms < 1000, `level ${levels} as a gadget dir: ${asDir.ms} ms`);
    }
  });

  it('coreforge gadget validate shows the rule and the fix and exits 1; a valid gadget still validates', async () => {
    const file = join(dir, 'cli-bomb.yaml');
    await writeFile(file, gadgetBomb(9));
    const bomb = await runCli(['gadget', 'validate', file], { socketPath: daemon.socketPath });
    assert.equal(bomb.code, 1);
    assert.equal(bomb.stderr, `error: cannot parse gadget metadata: gadget.yaml ${aliasRule}\n`);

    const good = join(dir, 'gadget.yaml');
    await writeFile(good, PI_18_GADGET_YAML);
    const res = await runCli(['gadget', 'validate', good, '--json'], { socketPath: daemon.socketPath });
    assert.equal(res.code, 0, res.stderr);
    const layout = JSON.parse(res.stdout) as GadgetLayoutResult;
    assert.deepEqual(layout.volumes[0]!.structures.map((s) => s.offset), [1048576, 269484032]);
    // and the same gadget with its structure written through an alias is fine too
    const aliased = `structures: &s\n${PI_18_GADGET_YAML.split('    structure:\n')[1]!.replace(/^ {2}/gm, '')}${PI_18_GADGET_YAML.split('    structure:\n')[0]}    structure: *s\n`;
    const viaAlias = await daemon.transport.call<GadgetLayoutResult>('POST', '/v1/gadget/validate', { yaml: aliased });
    assert.deepEqual(viaAlias.volumes, layout.volumes);
  });

  it('refuses a snap whose meta/snap.yaml is a bomb: added to the local store, or given to a build', async () => {
    const src = join(dir, 'bomb-snap');
    await mkdir(join(src, 'meta'), { recursive: true });
    await writeFile(join(src, 'meta/snap.yaml'), `name: bomb\nversion: '1'\n${aliasBomb(9)}apps: *l8\n`);
    const snap = join(dir, 'bomb_1_all.snap');
    await mksquashfs(src, snap);

    const added = await timedError(daemon, '/v1/store/snaps', { path: snap });
    assert.deepEqual({ kind: added.kind, message: added.message }, { kind: 'invalid-snap', message: `cannot add ${snap} to the store: meta/snap.yaml ${aliasRule}` });
    assert.ok(added.ms < 1000, `store add: ${added.ms} ms`);

    // a build reads local snaps through LocalSnapSource, with unsquashfs as the daemon runs it
    const started = performance.now();
    const err = await LocalSnapSource.inspect([snap], runTool).then(
      () => assert.fail('the bomb snap was accepted'),
      (e: unknown) => e,
    );
    assert.ok(isCoreforgeError(err), String(err));
    assert.deepEqual({ kind: err.kind, message: err.message }, { kind: 'invalid-snap', message: `cannot use snap file ${snap}: meta/snap.yaml ${aliasRule}` });
    assert.ok(performance.now() - started < 1000, `build inspect: ${performance.now() - started} ms`);

    // the daemon kept serving throughout
    assert.ok(await daemon.transport.call('GET', '/v1/system-info'));
  });
});
