import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as pty from 'node-pty';
import { cliEntry, repoRoot, useDaemon, type DaemonProcess } from '../helpers/daemon.js';

describe('coreforge watch on a terminal', () => {
  const use = useDaemon();
  let daemon: DaemonProcess;
  before(() => (daemon = use.daemon()));

  it('redraws one progress line with a bar, percentage, size, speed and time left, then prints the result', async () => {
    const id = await daemon.transport.call<string>('POST', '/v1/test/changes', {
      summary: 'flash demo',
      tasks: [{ kind: 'test-sleep', data: { ms: 5000, steps: 60, total: 64 * 1024 * 1024, phase: 'flashing' } }],
    });
    const term = pty.spawn(process.execPath, ['--import', 'tsx', cliEntry, 'watch', id], {
      name: 'xterm-256color',
      cols: 100,
      rows: 24,
      cwd: repoRoot,
      env: { ...process.env, COREFORGE_SOCKET: daemon.socketPath } as Record<string, string>,
    });
    let screen = '';
    term.onData((d) => (screen += d));
    const code = await new Promise<number>((resolve) => term.onExit(({ exitCode }) => resolve(exitCode)));
    assert.equal(code, 0, screen);
    const redraws = screen.split('\r\x1b[K').slice(1);
    assert.ok(redraws.length >= 3, `the line was redrawn ${redraws.length} times:\n${JSON.stringify(screen)}`);
    const sample = redraws.find((l) => /MiB\/s +ETA/.test(l)) ?? '';
    assert.match(sample, /^flashing +\[#*\.*\] +\d+\.\d% +\d+\.\d MiB\/64\.0 MiB +\d+\.\d MiB\/s +ETA \d+:\d\d(\r|\n|$)/);
    assert.ok(redraws.every((l) => l.replace(/\r?\n.*$/s, '').length < 100), 'lines fit the 100-column terminal');
    assert.match(screen, new RegExp(`change ${id} done: flash demo`));
  });
});
