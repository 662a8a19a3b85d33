import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { Transport } from '../../client/transport.js';
import { repoRoot } from '../helpers/daemon.js';
import { makeTempDir } from '../helpers/tmp.js';

const run = promisify(execFile);

describe('scripts/install and scripts/uninstall', () => {
  it('install a working coreforged and coreforge under a prefix, and uninstall removes them', { timeout: 300_000 }, async () => {
    const tmp = await makeTempDir('coreforge-install-');
    const prefix = join(tmp.dir, 'usr');
    const unitdir = join(tmp.dir, 'units');
    const env = {
      ...process.env,
      PREFIX: prefix,
      UNITDIR: unitdir,
      COREFORGE_INSTALL_NO_SYSTEMD: '1',
      COREFORGE_INSTALL_NO_GROUP: '1',
      COREFORGE_INSTALL_NO_DEPS: '1',
    };
    try {
      const installed = await run('bash', [join(repoRoot, 'scripts/install')], { env, cwd: tmp.dir, maxBuffer: 1 << 24 });
      assert.match(installed.stdout, /install: done/);
      for (const bin of ['coreforge', 'coreforged', 'console-conf']) assert.ok((await stat(join(prefix, 'bin', bin))).mode & 0o100, `${bin} is executable`);
      const service = await readFile(join(unitdir, 'coreforged.service'), 'utf8');
      assert.match(service, new RegExp(`^ExecStart=${prefix}/bin/coreforged `, 'm'));
      assert.ok(existsSync(join(prefix, 'share/bash-completion/completions/coreforge')));
      const libModules = await readdir(join(prefix, 'lib/coreforge/node_modules'));
      assert.ok(libModules.includes('express') && !libModules.includes('typescript'), 'runtime dependencies only');

      // The documented manual start, then doctor through the installed CLI.
      const socket = join(tmp.dir, 'installed.sock');
      const daemon = spawn(join(prefix, 'bin/coreforged'), ['--socket', socket, '--state-dir', join(tmp.dir, 'state')], { stdio: ['ignore', 'ignore', 'pipe'] });
      let logs = '';
      daemon.stderr.on('data', (d: Buffer) => (logs += d.toString()));
      let exited = false;
      const exit = new Promise((r) => daemon.on('exit', () => r((exited = true))));
      const transport = new Transport(socket);
      try {
        for (let i = 0; ; i++) {
          if (await transport.call('GET', '/v1/system-info').then(() => true, () => false)) break;
          assert.ok(!exited && i < 400, `the installed coreforged did not come up:\n${logs}`);
          await new Promise((r) => setTimeout(r, 50));
        }
        const doctor = await run(join(prefix, 'bin/coreforge'), ['--socket', socket, 'doctor'], { env: process.env });
        assert.match(doctor.stdout, /All required tools are present\./);
        const version = await run(join(prefix, 'bin/coreforged'), ['--version']);
        assert.equal(version.stdout, 'coreforged 0.1.0\n');
      } finally {
        transport.close();
        daemon.kill('SIGTERM');
        await exit;
      }

      const removed = await run('bash', [join(repoRoot, 'scripts/uninstall')], { env });
      assert.match(removed.stdout, /uninstall: removed coreforge/);
      for (const gone of ['bin/coreforge', 'bin/coreforged', 'bin/console-conf', 'lib/coreforge', 'share/bash-completion/completions/coreforge']) {
        assert.equal(existsSync(join(prefix, gone)), false, `${gone} removed`);
      }
      assert.deepEqual(await readdir(unitdir), []);
    } finally {
      await tmp.cleanup();
    }
  });
});
