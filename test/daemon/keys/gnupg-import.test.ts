import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, cp, lstat, mkdir, readdir, readFile, symlink, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as openpgp from 'openpgp';
import { ApiCallError } from '../../../client/transport.js';
import type { KeyInfo } from '../../../daemon/api/types.js';
import { publicKeyFromOpenPGP } from '../../../daemon/asserts/index.js';
import { Database } from '../../../daemon/db/database.js';
import { migrate } from '../../../daemon/db/migrations.js';
import { Keyring, gnupgHomeLimits } from '../../../daemon/keys/index.js';
import { startDaemon, type DaemonProcess } from '../../helpers/daemon.js';
import { gpgExportPublic, makeGnupgHome } from '../../helpers/gnupg.js';
import { makeTempDir } from '../../helpers/tmp.js';

// Issue 12, finding 2: importing from a gnupg home ran `gpg --homedir HOME` as
// root, so HOME's gpg.conf (agent-program...) and gpg-agent.conf ran the
// caller's programs and wrote the caller's chosen files as root. These tests
// are that attack, through the daemon's socket.

// the import's passphrase unlocks the source key and encrypts the copy coreforged keeps
const passphrase = 'gpg home pass';

/** Every name, type and size under a directory: what gpg would leave behind (sockets, trustdb, migrated keys). */
async function snapshot(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const name of (await readdir(dir, { recursive: true })).sort()) {
    const info = await lstat(join(dir, name));
    out.push(`${name} ${info.isFile() ? `file ${info.size}` : info.isDirectory() ? 'dir' : info.isSymbolicLink() ? 'link' : 'other'}`);
  }
  return out;
}

/** The API error of a call that must fail. */
async function refusal(p: Promise<unknown>): Promise<{ kind: string; message: string }> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof ApiCallError, String(err));
    return { kind: err.kind, message: err.message };
  }
  assert.fail('expected the daemon to refuse');
}

const killAgent = (home: string) => spawnSync('gpgconf', ['--homedir', home, '--kill', 'gpg-agent'], { stdio: 'ignore' });

describe('import from a gnupg home the caller controls', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let daemon: DaemonProcess;
  /** the caller's home: a real key, and configuration that runs the caller's program */
  let home: string;
  /** a home with another key, in a root-only directory */
  let secretHome: string;
  let expectedId: string;
  const markers = () => ['MARK-program', 'MARK-gpg-log', 'MARK-agent-log', 'MARK-dirmngr-log', 'MARK-pinentry'].filter((m) => existsSync(join(dir, m)));
  const importKey = (body: Record<string, unknown>) =>
    daemon.transport.call<KeyInfo>('POST', '/v1/keys', { action: 'import', passphrase, ...body });

  before(async () => {
    ({ dir, cleanup } = await makeTempDir());
    const made = makeGnupgHome(dir, { name: 'victim', passphrase });
    made.dispose(); // no agent may be left running for it: the attack is on the agent gpg starts
    home = made.home;
    expectedId = publicKeyFromOpenPGP(await openpgp.readKey({ binaryKey: gpgExportPublic(home, 'victim') })).id;
    killAgent(home);

    const evil = join(dir, 'evil.sh');
    // as agent-program it would start the real agent after leaving its mark, so the import still succeeds
    await writeFile(evil, `#!/bin/sh\ntouch ${dir}/MARK-program\nexec /usr/bin/gpg-agent "$@"\n`, { mode: 0o755 });
    await writeFile(join(dir, 'pinentry.sh'), `#!/bin/sh\ntouch ${dir}/MARK-pinentry\nexit 1\n`, { mode: 0o755 });
    await writeFile(join(home, 'gpg.conf'), `agent-program ${evil}\nlog-file ${dir}/MARK-gpg-log\n`);
    await writeFile(
      join(home, 'gpg-agent.conf'),
      `log-file ${dir}/MARK-agent-log\ndebug-level basic\npinentry-program ${dir}/pinentry.sh\nscdaemon-program ${evil}\n`,
    );
    await writeFile(join(home, 'dirmngr.conf'), `log-file ${dir}/MARK-dirmngr-log\n`);

    await mkdir(join(dir, 'root-only'), { mode: 0o700 });
    const secret = makeGnupgHome(join(dir, 'root-only'), { name: 'secret', passphrase });
    secret.dispose();
    secretHome = secret.home;
    await chmod(join(secretHome, 'pubring.kbx'), 0o600);

    daemon = await startDaemon({ socketPath: join(dir, 'd.sock'), stateDir: join(dir, 'state') });
  });
  after(async () => {
    await daemon?.stop();
    killAgent(home);
    killAgent(secretHome);
    await cleanup();
  });

  it('imports the key with the SHA3-384 id snapd computes, and no program or file of the home\'s configuration runs or is written', async () => {
    const before = await snapshot(home);
    const key = await importKey({ name: 'imported', 'gnupg-home': home, 'gnupg-name': 'victim' });
    assert.equal(key['sha3-384'], expectedId);
    assert.deepEqual(markers(), []);
    // gpg worked elsewhere: no socket, trustdb or lock file appeared in the caller's home
    assert.deepEqual(await snapshot(home), before);
    // and the private copy is gone, agent sockets included
    assert.deepEqual((await readdir(join(daemon.stateDir, 'keys'))).filter((n) => n.startsWith('.')), []);
    assert.equal((await daemon.transport.call<KeyInfo[]>('GET', '/v1/keys')).find((k) => k.name === 'imported')?.['sha3-384'], expectedId);
  });

  it('takes a gnupg-name that looks like an option as a name, not as a gpg option', async () => {
    const err = await refusal(importKey({ name: 'injected', 'gnupg-home': home, 'gnupg-name': `--agent-program=${join(dir, 'evil.sh')}` }));
    assert.equal(err.kind, 'key-not-found');
    assert.ok(err.message.startsWith(`cannot find key named "--agent-program=${join(dir, 'evil.sh')}" in gnupg home ${home}: `), err.message);
    assert.deepEqual(markers(), []);
  });

  it('refuses a home whose keyring files are links, special files or too large, reading nothing through them', async () => {
    const attacks: { name: string; make(h: string): Promise<void>; message: string }[] = [
      {
        name: 'pubring.kbx linked to a root-only keyring',
        make: async (h) => {
          await symlink(join(secretHome, 'pubring.kbx'), join(h, 'pubring.kbx'));
          await symlink(join(secretHome, 'private-keys-v1.d'), join(h, 'private-keys-v1.d'));
        },
        message: 'pubring.kbx is a symbolic link; coreforged follows no link in a gnupg home: give the directory that holds the real files',
      },
      {
        name: 'private-keys-v1.d linked to a root-only directory',
        make: async (h) => {
          await cp(join(secretHome, 'pubring.kbx'), join(h, 'pubring.kbx'));
          await symlink(join(secretHome, 'private-keys-v1.d'), join(h, 'private-keys-v1.d'));
        },
        message: 'private-keys-v1.d is not a directory (a file or a symbolic link); coreforged follows no link in a gnupg home: give the directory that holds the real files',
      },
      {
        name: 'a key file linked to a root-only key',
        make: async (h) => {
          await cp(join(secretHome, 'pubring.kbx'), join(h, 'pubring.kbx'));
          await mkdir(join(h, 'private-keys-v1.d'), { mode: 0o700 });
          for (const k of await readdir(join(secretHome, 'private-keys-v1.d'))) {
            await symlink(join(secretHome, 'private-keys-v1.d', k), join(h, 'private-keys-v1.d', k));
          }
        },
        message: `private-keys-v1.d/${'X'.repeat(40)}.key is a symbolic link; coreforged follows no link in a gnupg home: give the directory that holds the real files`,
      },
      {
        name: 'a FIFO as pubring.kbx (it would block a plain open)',
        make: async (h) => void execFileSync('mkfifo', [join(h, 'pubring.kbx')]),
        message: 'pubring.kbx is not a regular file; coreforged reads only regular files from a gnupg home',
      },
      {
        name: 'an oversized pubring.gpg',
        make: async (h) => {
          await writeFile(join(h, 'pubring.gpg'), '');
          await truncate(join(h, 'pubring.gpg'), gnupgHomeLimits.keyringBytes + 1);
        },
        message: 'pubring.gpg is larger than 16 MiB; import from a gnupg home that holds only your signing keys, such as ~/.snap/gnupg',
      },
      {
        name: 'too many key files',
        make: async (h) => {
          await cp(join(secretHome, 'pubring.kbx'), join(h, 'pubring.kbx'));
          await mkdir(join(h, 'private-keys-v1.d'), { mode: 0o700 });
          for (let i = 0; i <= gnupgHomeLimits.keyFiles; i++) await writeFile(join(h, 'private-keys-v1.d', `${i.toString(16).toUpperCase().padStart(40, '0')}.key`), '');
        },
        message: `private-keys-v1.d holds ${gnupgHomeLimits.keyFiles + 1} keys, more than the ${gnupgHomeLimits.keyFiles} coreforged reads; export the one key with "gpg --armor --export-secret-keys NAME" and import that file instead`,
      },
    ];
    for (const [i, attack] of attacks.entries()) {
      const h = join(dir, `attack-${i}`);
      await mkdir(h, { mode: 0o700 });
      await attack.make(h);
      const started = Date.now();
      const err = await refusal(importKey({ name: `attack-${i}`, 'gnupg-home': h, 'gnupg-name': 'secret' }));
      assert.equal(err.kind, 'invalid-gnupg-home', attack.name);
      assert.equal(err.message.replace(/[0-9A-F]{40}\.key/, `${'X'.repeat(40)}.key`), `cannot import key "secret" from gnupg home ${h}: ${attack.message}`, attack.name);
      assert.ok(Date.now() - started < 5000, `${attack.name}: refused in ${Date.now() - started} ms`);
    }
    const keys = await daemon.transport.call<KeyInfo[]>('GET', '/v1/keys');
    assert.equal(keys.some((k) => k.name.startsWith('attack-')), false);
  });

  it('refuses a home that is a link, a file or missing, and one without a keyring', async () => {
    await symlink(home, join(dir, 'home-link'));
    await writeFile(join(dir, 'home-file'), '');
    await mkdir(join(dir, 'empty-home'));
    const cases = [
      { h: join(dir, 'home-link'), kind: 'invalid-gnupg-home', why: 'it is not a directory (or is a symbolic link); give the real path of the gnupg home directory' },
      { h: join(dir, 'home-file'), kind: 'invalid-gnupg-home', why: 'it is not a directory (or is a symbolic link); give the real path of the gnupg home directory' },
      { h: join(dir, 'no-such-home'), kind: 'invalid-gnupg-home', why: 'it does not exist; give the gnupg home that holds the key, such as ~/.snap/gnupg' },
      { h: join(dir, 'empty-home'), kind: 'key-not-found', why: 'it holds no keyring (pubring.kbx, pubring.gpg, secring.gpg); give the gnupg home that holds the key, such as ~/.snap/gnupg' },
    ];
    for (const c of cases) {
      const err = await refusal(importKey({ name: 'nowhere', 'gnupg-home': c.h, 'gnupg-name': 'victim' }));
      assert.deepEqual(err, { kind: c.kind, message: `cannot import key "victim" from gnupg home ${c.h}: ${c.why}` });
    }
    // gpg used to create a missing home, as root
    assert.equal(existsSync(join(dir, 'no-such-home')), false);
    assert.deepEqual(markers(), []);
  });
});

describe('gnupg import scratch homes', () => {
  it('works from a state dir too long for gpg-agent\'s socket path, and removes scratch homes an interrupted import left', async () => {
    const { dir, cleanup } = await makeTempDir();
    const made = makeGnupgHome(dir, { name: 'long', passphrase });
    const db = await Database.open(join(dir, 'state.db'));
    try {
      await migrate(db);
      const keysDir = join(dir, 'd'.repeat(120), 'keys');
      await mkdir(join(keysDir, '.gnupg-import-left0'), { recursive: true });
      await writeFile(join(keysDir, '.gnupg-import-left0', 'pubring.kbx'), 'left');
      const keyring = await new Keyring({ db, dir: keysDir }).open();
      assert.deepEqual(await readdir(keysDir), []);
      const entry = await keyring.importGnupg('long', made.home, 'long', passphrase);
      const exported = await openpgp.readKey({ binaryKey: gpgExportPublic(made.home, 'long') });
      assert.equal(entry.id, publicKeyFromOpenPGP(exported).id);
      assert.match(await readFile(entry.path, 'utf8'), /^-----BEGIN PGP PRIVATE KEY BLOCK-----/);
    } finally {
      made.dispose();
      await db.close();
      await cleanup();
    }
  });
});
