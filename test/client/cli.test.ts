import assert from 'node:assert/strict';
import { mkdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ChangeInfo } from '../../daemon/api/types.js';
import { runCli, startDaemon, type DaemonProcess } from '../helpers/daemon.js';
import { makeTempDir } from '../helpers/tmp.js';

describe('coreforge CLI against a real coreforged', () => {
  let daemon: DaemonProcess;
  let dir: string;
  let cleanup: () => Promise<void>;
  before(async () => {
    const tmp = await makeTempDir();
    ({ dir, cleanup } = tmp);
    daemon = await startDaemon({ socketPath: join(dir, 'cli.sock'), stateDir: join(dir, 'state') });
  });
  after(async () => {
    await daemon.stop();
    await cleanup();
  });
  const cli = (...args: string[]) => runCli(args, { socketPath: daemon.socketPath });
  const startSleep = (data: Record<string, unknown>) => daemon.transport.call<string>('POST', '/v1/test/changes', { summary: 'nap', tasks: [{ kind: 'test-sleep', data }] });

  it('says in one line which socket it tried and how to start the daemon, exit 2', async () => {
    const missing = join(dir, 'nobody-here.sock');
    const r = await runCli(['changes'], { socketPath: missing });
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    assert.equal(
      r.stderr,
      `error: cannot reach coreforged at ${missing}: no such socket (ENOENT); start it with "sudo systemctl start coreforged.socket" or "coreforged --socket ${missing} --state-dir DIR"; --socket or COREFORGE_SOCKET selects another socket\n`,
    );
  });

  it('--socket overrides COREFORGE_SOCKET', async () => {
    const r = await runCli(['version', '--socket', daemon.socketPath], { env: { COREFORGE_SOCKET: join(dir, 'wrong.sock') } });
    assert.equal(r.code, 0);
    assert.equal(r.stdout, 'coreforge   0.1.0\ncoreforged  0.1.0\n');
  });

  it('prints client and daemon versions as JSON', async () => {
    const r = await cli('version', '--json');
    assert.equal(r.code, 0);
    assert.deepEqual(JSON.parse(r.stdout), { client: '0.1.0', daemon: '0.1.0' });
  });

  it('doctor lists every tool with its version and exits 0 when all required tools are there', async () => {
    const r = await cli('doctor');
    assert.equal(r.code, 0, r.stderr);
    for (const tool of ['unsquashfs', 'mksquashfs', 'mkfs.ext4', 'mkfs.vfat', 'mcopy', 'fakeroot', 'sfdisk']) {
      assert.match(r.stdout, new RegExp(`^ok +${tool.replace('.', '\\.')} +\\d`, 'm'));
    }
    assert.match(r.stdout, /All required tools are present\./);
    const json = JSON.parse((await cli('doctor', '--json')).stdout) as { ok: boolean; tools: unknown[] };
    assert.equal(json.ok, true);
    assert.ok(json.tools.length >= 7);
  });

  it('doctor exits 1 and names the Debian package when a required tool is missing', async () => {
    const tools = join(dir, 'some-tools');
    await mkdir(tools);
    for (const t of ['unsquashfs', 'mksquashfs', 'mkfs.ext4', 'mkfs.vfat', 'mcopy', 'sfdisk']) {
      await symlink((await import('node:child_process')).execSync(`command -v ${t} || ls /usr/sbin/${t} /sbin/${t} 2>/dev/null | head -1`, { shell: '/bin/bash' }).toString().trim(), join(tools, t));
    }
    const limited = await startDaemon({ socketPath: join(dir, 'limited.sock'), stateDir: join(dir, 'state-limited'), env: { COREFORGE_TOOL_PATH: tools } });
    try {
      const r = await runCli(['doctor'], { socketPath: limited.socketPath });
      assert.equal(r.code, 1);
      assert.match(r.stdout, /^FAIL +fakeroot +missing: install the Debian package fakeroot/m);
      assert.match(r.stdout, /^To install what is missing: sudo apt-get install fakeroot xz-utils zstd gnupg$/m);
      assert.match(r.stdout, /1 required tool\(s\) missing\./);
    } finally {
      await limited.stop();
    }
  });

  it('watch follows a change to Done, one line per phase when not on a terminal, exit 0', async () => {
    // Long enough that the CLI is watching before it ends, even on a loaded machine.
    const id = await startSleep({ ms: 5000, steps: 50, phase: 'writing' });
    const r = await cli('watch', id);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, 'writing...\n');
    assert.equal(r.stdout, `change ${id} done: nap\n`);
  });

  it('watch exits 1 with the error of a failed change', async () => {
    const id = await daemon.transport.call<string>('POST', '/v1/test/changes', { tasks: [{ kind: 'test-sleep', data: { ms: 200, steps: 4 } }, { kind: 'test-fail' }] });
    const r = await cli('watch', id);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`change ${id} failed: cannot continue: the test task fails on purpose\\n$`));
  });

  it('abort stops a running change; changes and change show it', async () => {
    const id = await startSleep({ ms: 30_000 });
    await new Promise((r) => setTimeout(r, 200));
    const aborted = await cli('abort', id);
    assert.equal(aborted.code, 0, aborted.stderr);
    assert.equal(aborted.stdout, `change ${id} is Abort: aborted by request\n`);
    const list = await cli('changes');
    assert.match(list.stdout, /^ID +Status +Spawn +Ready +Summary$/m);
    assert.match(list.stdout, new RegExp(`^${id} +Abort +\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d +\\d{4}-.* nap$`, 'm'));
    const one = await cli('change', id);
    assert.match(one.stdout, /^Abort +.*test-sleep task$/m);
    assert.match(one.stdout, /error: aborted by request/);
    const json = JSON.parse((await cli('change', id, '--json')).stdout) as ChangeInfo;
    assert.equal(json.status, 'Abort');
    const again = await cli('abort', id);
    assert.equal(again.code, 1);
    assert.equal(again.stderr, `error: cannot abort change ${id}: it is already Abort; only changes in Do or Doing can be aborted\n`);
  });

  it('reports an unknown change id with exit 1', async () => {
    const r = await cli('change', '987654');
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'error: cannot find change "987654": no change has that id; list changes with "coreforge changes"\n');
  });

  it('has --help with an example for every command, and exits 2 on an unknown command', async () => {
    const top = await cli('--help');
    assert.equal(top.code, 0);
    const commands = [...top.stdout.split('Commands:')[1]!.matchAll(/^  ([a-z-]+)\b/gm)].map((m) => m[1]!).filter((c) => c !== 'help');
    assert.ok(commands.length >= 6, top.stdout);
    for (const command of commands) {
      const r = await cli(command, '--help');
      assert.equal(r.code, 0, command);
      assert.match(r.stdout, /Example/, `${command} --help has an example`);
    }
    const bad = await cli('frobnicate');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /unknown command 'frobnicate'/);
  });
});
