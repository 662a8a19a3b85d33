/**
 * An unmodified snapd client (`snap download` from Debian's snapd package,
 * unpacked by scripts/setup) fetching a snap from coreforged's store server:
 * the refresh request, the download and snapd's own SHA3-384 check must all
 * pass. Its assertion fetch then stops, as it must: snapd trusts only
 * Canonical's root, not a local store's.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildFixtureSnap, fixtureSpec } from '../../fixtures/snaps.js';
import { realDaemonEntry, repoRoot, runCli, startDaemon, type DaemonProcess } from '../../helpers/daemon.js';
import { freePort } from '../../helpers/net.js';
import { makeTempDir } from '../../helpers/tmp.js';

const snapClient = join(repoRoot, '.cache/snapd/usr/bin/snap');

describe('snapd client against the store server', { skip: !existsSync(snapClient) && 'the snapd client was not unpacked by scripts/setup' }, () => {
  let daemon: DaemonProcess;
  let tmp: { dir: string; cleanup(): Promise<void> };
  let port: number;
  before(async () => {
    tmp = await makeTempDir('coreforge-snapd-');
    port = await freePort();
    daemon = await startDaemon({
      entry: realDaemonEntry,
      socketPath: join(tmp.dir, 'cf.sock'),
      stateDir: join(tmp.dir, 'state'),
      extraArgs: ['--offline', '--store-listen', `127.0.0.1:${port}`],
    });
  });
  after(async () => {
    await daemon.stop();
    await tmp.cleanup();
  });

  it('snap download with SNAPPY_FORCE_API_URL fetches the released revision and checks its digest', async () => {
    const snap = await buildFixtureSnap(fixtureSpec('hello-coreforge-amd64'), join(tmp.dir, 'snaps'));
    const added = await runCli(['store', 'add', snap.path, '--channel', 'latest/stable'], { socketPath: daemon.socketPath });
    assert.equal(added.code, 0, added.stderr);
    const out = join(tmp.dir, 'download');
    const result = await new Promise<{ code: number; output: string }>((resolve) => {
      execFile(
        snapClient,
        ['download', 'hello-coreforge', '--channel=stable', `--target-directory=${out}`],
        { env: { ...process.env, SNAPPY_FORCE_API_URL: `http://127.0.0.1:${port}/`, HOME: tmp.dir }, timeout: 60_000 },
        (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, output: stdout + stderr }),
      );
    });
    assert.match(result.output, /Fetching snap "hello-coreforge"/);
    assert.doesNotMatch(result.output, /mismatch|cannot download/, result.output);
    const downloaded = join(out, 'hello-coreforge_1.snap');
    assert.ok(existsSync(downloaded), result.output);
    assert.deepEqual(readFileSync(downloaded), readFileSync(snap.path));
    // snapd then fetches assertions and refuses the local store's root, which it does not trust.
    assert.match(result.output, /Fetching assertions for "hello-coreforge"/);
  });
});
