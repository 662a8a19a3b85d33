import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { repoRoot } from '../helpers/daemon.js';
import { makeTempDir } from '../helpers/tmp.js';

const run = promisify(execFile);
const analyze = '/usr/bin/systemd-analyze';
const unitDir = join(repoRoot, 'systemd');

/**
 * systemd-analyze verify also checks that ExecStart programs exist, and the
 * units name their installed paths; the copies under test point those paths
 * at a stub so everything else in the units is verified as written.
 */
async function verifyUnits(names: string[]): Promise<{ code: number; output: string }> {
  const tmp = await makeTempDir('coreforge-units-');
  try {
    const stub = join(tmp.dir, 'stub');
    await writeFile(stub, '#!/bin/sh\nexit 0\n');
    await chmod(stub, 0o755);
    for (const name of names) {
      const text = await readFile(join(unitDir, name), 'utf8');
      await writeFile(join(tmp.dir, name), text.replace(/(Exec\w+=[-@+!:]*)(\/usr\/(?:lib\/coreforge\/\S+|bin\/\S+))/g, `$1${stub}`));
    }
    try {
      const { stdout, stderr } = await run(analyze, ['verify', '--man=no', ...names.map((n) => join(tmp.dir, n))], { cwd: tmp.dir });
      return { code: 0, output: stdout + stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, output: e.stdout + e.stderr };
    }
  } finally {
    await tmp.cleanup();
  }
}

describe('systemd units', { skip: !existsSync(analyze) && 'systemd-analyze is not installed (Debian package systemd)' }, () => {
  it('host units (coreforged.socket, coreforged.service) pass systemd-analyze verify', async () => {
    const result = await verifyUnits(['coreforged.socket', 'coreforged.service']);
    assert.equal(result.output.trim(), '');
    assert.equal(result.code, 0);
  });

  it('the socket is 0660, group coreforge, at the path the CLI uses by default', async () => {
    const socket = await readFile(join(unitDir, 'coreforged.socket'), 'utf8');
    assert.match(socket, /^ListenStream=\/run\/coreforge\.socket$/m);
    assert.match(socket, /^SocketMode=0660$/m);
    assert.match(socket, /^SocketGroup=coreforge$/m);
  });

  it('the service keeps its hardening, and the file system its callers name (homes, /tmp) as it is outside the unit', async () => {
    const service = await readFile(join(unitDir, 'coreforged.service'), 'utf8');
    for (const line of ['NoNewPrivileges=yes', 'ProtectSystem=full', 'ProtectHome=no', 'PrivateTmp=no', 'StateDirectory=coreforge', 'RuntimeDirectory=coreforge']) {
      assert.ok(service.split('\n').includes(line), `${line} present`);
    }
    // acting with a caller's rights needs the ids and groups of a thread to change
    assert.match(service, /^CapabilityBoundingSet=.*\bCAP_SETUID\b.*\bCAP_SETGID\b/m);
  });

  it('every unit file in systemd/ passes systemd-analyze verify', async () => {
    const units = (await readdir(unitDir)).filter((n) => /\.(service|socket|target|timer|path)$/.test(n));
    const result = await verifyUnits(units);
    assert.equal(result.output.trim(), '', result.output);
    assert.equal(result.code, 0);
  });
});
