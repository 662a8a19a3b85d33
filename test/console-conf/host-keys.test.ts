import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { hostKeyFingerprints } from '../../console-conf/host-keys.js';
import { makeTempDir } from '../helpers/tmp.js';

test('host key fingerprints match ssh-keygen -l for rsa, ecdsa and ed25519 keys', async (t) => {
  const { dir, cleanup } = await makeTempDir();
  t.after(cleanup);
  await mkdir(join(dir, 'etc/ssh'), { recursive: true });
  const want: string[] = [];
  for (const [type, bits] of [['rsa', '3072'], ['ecdsa', '384'], ['ed25519', '256']] as const) {
    const key = join(dir, `etc/ssh/ssh_host_${type}_key`);
    try {
      execFileSync('ssh-keygen', ['-q', '-t', type, '-b', bits, '-N', '', '-f', key]);
    } catch {
      t.skip('ssh-keygen is not installed');
      return;
    }
    const [b, fp, , label] = execFileSync('ssh-keygen', ['-l', '-f', `${key}.pub`], { encoding: 'utf8' }).trim().split(' ');
    want.push(`${b} ${fp} ${label}`);
    assert.ok((await readFile(`${key}.pub`, 'utf8')).startsWith(type === 'rsa' ? 'ssh-rsa' : type === 'ecdsa' ? 'ecdsa' : 'ssh-ed25519'));
  }
  const got = (await hostKeyFingerprints(dir)).map((f) => `${f.bits} ${f.sha256} (${f.label})`);
  // sorted by file name: ecdsa, ed25519, rsa
  assert.deepEqual(got, [want[1], want[2], want[0]]);
});

test('a root without etc/ssh has no fingerprints', async (t) => {
  const { dir, cleanup } = await makeTempDir();
  t.after(cleanup);
  assert.deepEqual(await hostKeyFingerprints(dir), []);
});
