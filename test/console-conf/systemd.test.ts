import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdir, readFile, readdir, readlink, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTempDir } from '../helpers/tmp.js';
import { repoRoot } from './helpers.js';

const generator = join(repoRoot, 'systemd/console-conf-generator');
const UNITS = ['console-conf@.service', 'serial-console-conf@.service'];

function hasSystemdAnalyze(): boolean {
  return spawnSync('systemd-analyze', ['--version']).status === 0;
}

/** Copies the units into `dir` with ExecStart pointing at `binary`, plus instance links; returns the instance paths. */
async function stage(dir: string, binary: string): Promise<string[]> {
  for (const u of UNITS) {
    const text = await readFile(join(repoRoot, 'systemd', u), 'utf8');
    await writeFile(join(dir, u), text.replaceAll('/usr/bin/console-conf', binary));
  }
  await symlink('console-conf@.service', join(dir, 'console-conf@tty1.service'));
  await symlink('serial-console-conf@.service', join(dir, 'serial-console-conf@ttyS0.service'));
  return [join(dir, 'console-conf@tty1.service'), join(dir, 'serial-console-conf@ttyS0.service')];
}

test('systemd-analyze verify accepts both units (and refuses them when ExecStart is missing, so the check means something)', async (t) => {
  if (!hasSystemdAnalyze()) return t.skip('systemd-analyze is not installed');
  const { dir, cleanup } = await makeTempDir();
  t.after(cleanup);
  await mkdir(join(dir, 'good'));
  await mkdir(join(dir, 'bad'));
  const good = spawnSync('systemd-analyze', ['verify', ...(await stage(join(dir, 'good'), process.execPath))], { encoding: 'utf8' });
  assert.equal(good.status, 0, good.stderr);
  const bad = spawnSync('systemd-analyze', ['verify', ...(await stage(join(dir, 'bad'), join(dir, 'no-such-binary')))], { encoding: 'utf8' });
  assert.notEqual(bad.status, 0);
});

test('the units run console-conf only until the marker exists and give the tty back to getty', async () => {
  const vt = await readFile(join(repoRoot, 'systemd/console-conf@.service'), 'utf8');
  const serial = await readFile(join(repoRoot, 'systemd/serial-console-conf@.service'), 'utf8');
  for (const [text, getty] of [[vt, 'getty@%i.service'], [serial, 'serial-getty@%i.service']] as const) {
    assert.match(text, /^ConditionPathExists=!\/var\/lib\/console-conf\/complete$/m);
    assert.match(text, new RegExp(`^Conflicts=${getty.replace('.', '\\.')}$`, 'm'));
    assert.match(text, new RegExp(`^ExecStopPost=-/bin/systemctl start --no-block ${getty.replace('.', '\\.')}$`, 'm'));
  }
  assert.match(serial, /^ExecStart=\/usr\/bin\/console-conf --serial$/m);
});

async function runGenerator(active: string | undefined, marker: false | 'var' | 'writable' | true = false) {
  const { dir, cleanup } = await makeTempDir();
  const root = join(dir, 'root');
  const out = join(dir, 'out');
  await mkdir(join(root, 'sys/class/tty/console'), { recursive: true });
  if (active !== undefined) await writeFile(join(root, 'sys/class/tty/console/active'), active);
  if (marker) {
    // 'writable': only on the writable partition, before the fstab binds it (Ubuntu Core's early boot)
    const dir = marker === 'writable' ? 'writable/system-data/var/lib/console-conf' : 'var/lib/console-conf';
    await mkdir(join(root, dir), { recursive: true });
    await writeFile(join(root, dir, 'complete'), '{}');
  }
  execFileSync(generator, [out, join(dir, 'early'), join(dir, 'late'), root], { env: { ...process.env, CONSOLE_CONF_UNIT_DIR: '/usr/lib/systemd/system' } });
  const wants = await readdir(join(out, 'getty.target.wants')).catch(() => [] as string[]);
  const links = Object.fromEntries(await Promise.all(wants.sort().map(async (w) => [w, await readlink(join(out, 'getty.target.wants', w))])));
  const dropIns = (await readdir(out).catch(() => [] as string[])).filter((d) => d.endsWith('.d')).sort();
  return { out, links, dropIns, cleanup };
}

test('the generator starts console-conf on tty1 for tty0 and serial-console-conf on ttyS0, holding their gettys back', async (t) => {
  const g = await runGenerator('tty0 ttyS0\n');
  t.after(g.cleanup);
  assert.deepEqual(g.links, {
    'console-conf@tty1.service': '/usr/lib/systemd/system/console-conf@.service',
    'serial-console-conf@ttyS0.service': '/usr/lib/systemd/system/serial-console-conf@.service',
  });
  assert.deepEqual(g.dropIns, ['getty@tty1.service.d', 'serial-getty@ttyS0.service.d']);
  assert.match(await readFile(join(g.out, 'getty@tty1.service.d/50-console-conf.conf'), 'utf8'), /^\[Unit\]\nConditionPathExists=\/var\/lib\/console-conf\/complete$/m);
});

test('the generator does nothing once the marker exists, without an active console list, or for a name that is a path', async (t) => {
  for (const [active, marker] of [['tty1 ttyAMA0', true], ['tty1 ttyAMA0', 'writable'], [undefined, false], ['../x', false]] as const) {
    const g = await runGenerator(active, marker);
    t.after(g.cleanup);
    assert.deepEqual(g.links, {}, String(active));
    assert.deepEqual(g.dropIns, []);
  }
});


