import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, readdir, rename, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Transport } from '../../client/transport.js';
import type { ChangeInfo, SystemInfo } from '../../daemon/api/types.js';
import { repoRoot, spawnDaemon, startDaemon, testDaemonEntry } from '../helpers/daemon.js';
import { makeTempDir } from '../helpers/tmp.js';
import { chainsDir } from './asserts/helpers.js';

const isRoot = process.getuid?.() === 0;

async function withTemp(fn: (dir: string) => Promise<void>): Promise<void> {
  const tmp = await makeTempDir();
  try {
    await fn(tmp.dir);
  } finally {
    await tmp.cleanup();
  }
}

/** The daemon's exit code, or 'still running' (and it is stopped) when it has not exited within ms. */
async function exitedWithin(daemon: ReturnType<typeof spawnDaemon>, ms: number): Promise<number | string> {
  let timer: NodeJS.Timeout | undefined;
  const code = await Promise.race([daemon.exited, new Promise<string>((r) => (timer = setTimeout(() => r('still running'), ms)))]);
  clearTimeout(timer);
  if (code === 'still running') await daemon.stop();
  return code;
}

describe('coreforged lifecycle', () => {
  it('creates the state dir 0700, the socket 0660 and applies the schema to state.db', () =>
    withTemp(async (dir) => {
      const daemon = await startDaemon({ socketPath: join(dir, 'd.sock'), stateDir: join(dir, 'state') });
      try {
        assert.equal((await stat(join(dir, 'state'))).mode & 0o777, 0o700);
        const sock = await stat(daemon.socketPath);
        assert.ok(sock.isSocket());
        assert.equal(sock.mode & 0o777, 0o660);
        const header = (await readFile(join(dir, 'state', 'state.db'))).subarray(0, 16).toString('latin1');
        assert.equal(header, 'SQLite format 3\0');
      } finally {
        assert.equal(await daemon.stop(), 0);
      }
    }));

  it('stops on SIGTERM with exit 0 and removes its socket', () =>
    withTemp(async (dir) => {
      const daemon = await startDaemon({ socketPath: join(dir, 'd.sock'), stateDir: join(dir, 'state') });
      assert.equal(await daemon.stop(), 0);
      await assert.rejects(stat(daemon.socketPath), { code: 'ENOENT' });
      assert.match(daemon.logs(), /received SIGTERM/);
      assert.match(daemon.logs(), /stopped/);
    }));

  it('refuses to start a second daemon on a live socket, and the first keeps serving', () =>
    withTemp(async (dir) => {
      const first = await startDaemon({ socketPath: join(dir, 'd.sock'), stateDir: join(dir, 'state') });
      try {
        const second = spawnDaemon({ socketPath: first.socketPath, stateDir: join(dir, 'state2') });
        assert.equal(await second.exited, 1);
        assert.match(
          second.logs(),
          /cannot listen on .*d\.sock: another coreforged is already serving this socket; stop it first \(systemctl stop coreforged\) or pass a different --socket/,
        );
        const info = await first.transport.call<SystemInfo>('GET', '/v1/system-info');
        assert.equal(info.pid, first.proc.pid);
      } finally {
        await first.stop();
      }
    }));

  it('replaces a stale socket file left by a crashed daemon', () =>
    withTemp(async (dir) => {
      const opts = { socketPath: join(dir, 'd.sock'), stateDir: join(dir, 'state') };
      const crashed = await startDaemon(opts);
      await crashed.crash();
      assert.ok((await stat(opts.socketPath)).isSocket(), 'kill -9 leaves the socket file behind');
      const next = await startDaemon(opts);
      assert.equal((await next.transport.call<SystemInfo>('GET', '/v1/system-info')).pid, next.proc.pid);
      await next.stop();
    }));

  it('refuses a socket path in a missing directory, naming it and the fix', () =>
    withTemp(async (dir) => {
      const daemon = spawnDaemon({ socketPath: join(dir, 'no', 'such', 'd.sock'), stateDir: join(dir, 'state') });
      assert.equal(await daemon.exited, 1);
      assert.ok(
        daemon.logs().includes(`cannot listen on ${join(dir, 'no', 'such', 'd.sock')}: directory ${join(dir, 'no', 'such')} does not exist; create it (mkdir -p ${join(dir, 'no', 'such')})`),
        daemon.logs(),
      );
    }));

  it('refuses a file in the way of the socket', () =>
    withTemp(async (dir) => {
      await writeFile(join(dir, 'd.sock'), 'not a socket');
      const daemon = spawnDaemon({ socketPath: join(dir, 'd.sock'), stateDir: join(dir, 'state') });
      assert.equal(await daemon.exited, 1);
      assert.match(daemon.logs(), /a file that is not a socket is in the way; remove it or pass a different --socket/);
      assert.equal(await readFile(join(dir, 'd.sock'), 'utf8'), 'not a socket');
    }));

  it('refuses an unwritable state dir with the reason and the fix', () =>
    withTemp(async (dir) => {
      await chmod(dir, 0o777);
      const stateDir = join(dir, 'locked');
      await mkdir(stateDir, { mode: 0o500 });
      await chmod(stateDir, 0o500);
      // root may write anywhere, so as root the daemon runs as nobody for this test.
      const daemon = spawnDaemon({ socketPath: join(dir, 'd.sock'), stateDir, ...(isRoot ? { uid: 65534, gid: 65534 } : {}) });
      assert.equal(await daemon.exited, 1);
      assert.match(daemon.logs(), new RegExp(`cannot use state dir ${stateDir}: it is not writable \\(EACCES\\); run coreforged as a user that can write it, or pass --state-dir`));
    }));

  it('refuses a state dir path that is a file', () =>
    withTemp(async (dir) => {
      await writeFile(join(dir, 'file'), '');
      const daemon = spawnDaemon({ socketPath: join(dir, 'd.sock'), stateDir: join(dir, 'file') });
      assert.equal(await daemon.exited, 1);
      assert.match(daemon.logs(), /cannot use state dir .*file: it is not a directory/);
    }));

  it('refuses a corrupted state.db, naming the file, and leaves it untouched', () =>
    withTemp(async (dir) => {
      const stateDir = join(dir, 'state');
      await mkdir(stateDir, { mode: 0o700 });
      const garbage = Buffer.from('this was a database once\n'.repeat(400));
      await writeFile(join(stateDir, 'state.db'), garbage);
      const daemon = spawnDaemon({ socketPath: join(dir, 'd.sock'), stateDir });
      assert.equal(await daemon.exited, 1);
      assert.ok(
        daemon.logs().includes(`cannot use state database ${join(stateDir, 'state.db')}: file is not a database; coreforged will not reset it on its own: move the file aside`),
        daemon.logs(),
      );
      assert.deepEqual(await readFile(join(stateDir, 'state.db')), garbage);
      await assert.rejects(stat(join(dir, 'd.sock')), { code: 'ENOENT' });
    }));

  it('refuses an empty state.db while its keys dir still holds keys, naming the file, and leaves both untouched', () =>
    withTemp(async (dir) => {
      const opts = { socketPath: join(dir, 'd.sock'), stateDir: join(dir, 'state') };
      const first = await startDaemon(opts);
      const armored = await readFile(join(chainsDir, 'snapd-testkeys/test-root.private.asc'), 'utf8');
      await first.transport.call('POST', '/v1/keys', { action: 'import', name: 'kept', armored, passphrase: 'test passphrase' });
      assert.equal(await first.stop(), 0);
      const keyFiles = await readdir(join(opts.stateDir, 'keys'));
      assert.equal(keyFiles.length, 1);
      // truncated to nothing (a full disk, a bad restore): sqlite alone would take it for a new database
      await truncate(join(opts.stateDir, 'state.db'), 0);
      const second = spawnDaemon(opts);
      assert.equal(await exitedWithin(second, 20_000), 1, second.logs());
      assert.ok(
        second.logs().includes(
          `cannot use state database ${join(opts.stateDir, 'state.db')}: the file is empty (0 bytes), so the keys, changes and builds it indexed are lost; ` +
            'coreforged will not reset it on its own: move the file aside to start with empty state, or restore it from a backup',
        ),
        second.logs(),
      );
      assert.equal((await stat(join(opts.stateDir, 'state.db'))).size, 0);
      assert.deepEqual(await readdir(join(opts.stateDir, 'keys')), keyFiles);
      await assert.rejects(stat(opts.socketPath), { code: 'ENOENT' });
      // moved aside as the message says, the daemon starts with a new database
      await rename(join(opts.stateDir, 'state.db'), join(opts.stateDir, 'state.db.empty'));
      const third = await startDaemon(opts);
      try {
        assert.deepEqual(await third.transport.call('GET', '/v1/keys'), []);
      } finally {
        assert.equal(await third.stop(), 0);
      }
    }));

  it('creates a new state.db whole: never an empty file, no temporary file left', () =>
    withTemp(async (dir) => {
      const stateDir = join(dir, 'state');
      const daemon = spawnDaemon({ socketPath: join(dir, 'd.sock'), stateDir });
      // watch the state dir from before the daemon can create state.db until it serves
      const seen = new Set<number>();
      let serving = false;
      const deadline = Date.now() + 20_000;
      const ready = (async () => {
        while (Date.now() < deadline) {
          try {
            await daemon.transport.call('GET', '/v1/system-info');
            serving = true;
            return;
          } catch {
            await new Promise((r) => setTimeout(r, 1));
          }
        }
      })();
      while (!serving && Date.now() < deadline) {
        const info = await stat(join(stateDir, 'state.db')).catch(() => undefined);
        if (info) seen.add(info.size);
        await new Promise((r) => setImmediate(r));
      }
      await ready;
      try {
        assert.ok(serving, daemon.logs());
        assert.ok(seen.size > 0);
        assert.equal(seen.has(0), false, `state.db was seen empty (sizes ${[...seen].join(', ')})`);
        assert.deepEqual((await readdir(stateDir)).filter((n) => n.startsWith('state.db.new')), []);
      } finally {
        assert.equal(await daemon.stop(), 0);
      }
    }));

  it('marks a change Error "interrupted by daemon restart" after kill -9, never leaving it Doing', () =>
    withTemp(async (dir) => {
      const opts = { socketPath: join(dir, 'd.sock'), stateDir: join(dir, 'state') };
      const first = await startDaemon(opts);
      const id = await first.transport.call<string>('POST', '/v1/test/changes', {
        tasks: [{ kind: 'test-sleep', data: { ms: 60_000 } }, { kind: 'test-sleep', data: { ms: 10 } }],
      });
      for (;;) {
        const c = await first.transport.call<ChangeInfo>('GET', `/v1/changes/${id}`);
        if (c.status === 'Doing' && c.tasks[0]!.progress) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(await first.crash(), 'SIGKILL');
      const second = await startDaemon(opts);
      try {
        const change = await second.transport.call<ChangeInfo>('GET', `/v1/changes/${id}`);
        assert.equal(change.status, 'Error');
        assert.equal(change.err, 'interrupted by daemon restart');
        assert.deepEqual(change.tasks.map((t) => t.status), ['Error', 'Hold']);
        assert.deepEqual(await second.transport.call('GET', '/v1/changes?select=in-progress'), []);
        assert.match(second.logs(), new RegExp(`change=${id} change interrupted by daemon restart|change interrupted by daemon restart change=${id}`));
      } finally {
        await second.stop();
      }
    }));

  it('on SIGTERM lets a running change stop at a safe point and records it as "daemon stopped"', () =>
    withTemp(async (dir) => {
      const opts = { socketPath: join(dir, 'd.sock'), stateDir: join(dir, 'state') };
      const first = await startDaemon(opts);
      const id = await first.transport.call<string>('POST', '/v1/test/changes', { tasks: [{ kind: 'test-sleep', data: { ms: 60_000 } }] });
      await new Promise((r) => setTimeout(r, 300));
      const started = Date.now();
      assert.equal(await first.stop(), 0);
      assert.ok(Date.now() - started < 5000, 'the task stopped at its next step, not after its minute');
      const second = await startDaemon(opts);
      try {
        const change = await second.transport.call<ChangeInfo>('GET', `/v1/changes/${id}`);
        assert.equal(change.status, 'Error');
        assert.equal(change.err, 'daemon stopped');
      } finally {
        await second.stop();
      }
    }));

  it('serves on a socket passed by systemd socket activation and leaves that socket file in place', { skip: !existsSync('/usr/bin/systemd-socket-activate') && 'systemd-socket-activate is not installed (Debian package systemd)' }, () =>
    withTemp(async (dir) => {
      const socketPath = join(dir, 'activated.sock');
      const proc = spawn(
        'systemd-socket-activate',
        ['-l', socketPath, process.execPath, '--import', 'tsx', testDaemonEntry, '--socket', '/nonexistent/ignored.sock', '--state-dir', join(dir, 'state')],
        { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let logs = '';
      proc.stderr.on('data', (d: Buffer) => (logs += d.toString()));
      const exited = new Promise((r) => proc.on('exit', r));
      const transport = new Transport(socketPath);
      try {
        let info: SystemInfo | undefined;
        for (let i = 0; i < 200 && !info; i++) {
          info = await transport.call<SystemInfo>('GET', '/v1/system-info').catch(() => undefined);
          if (!info) await new Promise((r) => setTimeout(r, 50));
        }
        assert.ok(info, `no answer through the activated socket:\n${logs}`);
        assert.equal(info['socket-activated'], true);
      } finally {
        transport.close();
        proc.kill('SIGTERM');
        await exited;
      }
      assert.ok((await stat(socketPath)).isSocket(), 'the activated socket belongs to systemd and stays');
    }));
});
