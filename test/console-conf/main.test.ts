import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTempDir } from '../helpers/tmp.js';
import { mainEntry, repoRoot } from './helpers.js';

test('console-conf refuses a config with unknown keys before drawing anything, naming the keys', async (t) => {
  const { dir, cleanup } = await makeTempDir();
  t.after(cleanup);
  const config = join(dir, 'c.yaml');
  await writeFile(config, 'sso-url: http://127.0.0.1:1\nbackends: direct\n');
  const r = spawnSync(process.execPath, ['--import', 'tsx', mainEntry, '--root', dir, '--config', config], { cwd: repoRoot, encoding: 'utf8', input: '' });
  assert.equal(r.status, 2);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr, `console-conf: cannot use config ${config}: unknown key "backends"; use only sso-url, backend, netplan-apply, github-url, launchpad-url\n`);
});
