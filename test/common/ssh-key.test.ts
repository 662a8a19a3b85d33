// One SSH key rule for the store and the device: each row goes through the
// local store's account add and through console-conf's identity lookup (the
// SSO reply the store would give), and both must agree, for the same reason.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseSshPublicKey, shownKeyLine, SSH_KEY_TYPES } from '../../common/ssh-key.js';
import { resolveIdentity } from '../../console-conf/key-sources.js';
import type { FetchFn } from '../../console-conf/http-get.js';
import type { Database } from '../../daemon/db/database.js';
import type { LocalStore } from '../../daemon/store/local/store.js';
import { openLocalStore } from '../daemon/store/helpers.js';
import { makeTempDir } from '../helpers/tmp.js';

/** A real public key line made by ssh-keygen. */
function keygen(dir: string, type: string, bits?: number): string {
  const file = join(dir, `${type}-${bits ?? ''}`);
  execFileSync('ssh-keygen', ['-q', '-t', type, ...(bits ? ['-b', String(bits)] : []), '-N', '', '-C', 'owner@laptop', '-f', file]);
  return readFileSync(`${file}.pub`, 'utf8').trim();
}

/** A key line of `type` whose blob is well-formed (OpenSSH 9 no longer makes DSA keys). */
function craftedKey(type: string): string {
  const str = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
  return `${type} ${Buffer.concat([str(Buffer.from(type)), str(Buffer.alloc(64, 7))]).toString('base64')} old@host`;
}

const typesText = SSH_KEY_TYPES.join(', ');

describe('an SSH key is accepted or refused alike by the store and console-conf', () => {
  let tmp: { dir: string; cleanup(): Promise<void> };
  let db: Database;
  let store: LocalStore;
  let rows: { what: string; line: string; why: string | null }[];

  before(async () => {
    tmp = await makeTempDir('coreforge-sshkey-');
    ({ db, store } = await openLocalStore(tmp.dir));
    const ed = keygen(tmp.dir, 'ed25519');
    rows = [
      { what: 'ssh-ed25519', line: ed, why: null },
      { what: 'ssh-rsa', line: keygen(tmp.dir, 'rsa', 3072), why: null },
      { what: 'ecdsa-sha2-nistp256', line: keygen(tmp.dir, 'ecdsa', 256), why: null },
      { what: 'ecdsa-sha2-nistp521', line: keygen(tmp.dir, 'ecdsa', 521), why: null },
      { what: 'ssh-dss', line: craftedKey('ssh-dss'), why: `its type "ssh-dss" is not one of ${typesText}` },
      { what: 'bad base64', line: `ssh-ed25519 ${ed.split(' ')[1]!.slice(0, 20)}*${ed.split(' ')[1]!.slice(21)} owner@laptop`, why: 'its key data is not base64' },
      { what: 'base64 of the wrong length', line: `ssh-ed25519 ${ed.split(' ')[1]!.replace(/=+$/, '')}A owner@laptop`, why: 'its key data is not base64' },
      { what: 'data of another type', line: `ssh-rsa ${ed.split(' ')[1]}`, why: 'its key data does not hold a ssh-rsa key' },
      { what: 'a key with options', line: `no-pty,command="/bin/sh" ${ed}`, why: 'it starts with authorized_keys options, which are not allowed' },
      { what: 'a from= option', line: `from="10.0.0.1" ${ed}`, why: 'it starts with authorized_keys options, which are not allowed' },
    ];
  });
  after(async () => {
    await db.close();
    await tmp.cleanup();
  });

  it('has rows for every case the rule must decide', () => {
    assert.deepEqual(
      rows.map((r) => r.what),
      ['ssh-ed25519', 'ssh-rsa', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp521', 'ssh-dss', 'bad base64', 'base64 of the wrong length', 'data of another type', 'a key with options', 'a from= option'],
    );
    for (const r of rows.slice(0, 4)) assert.equal(r.line.split(' ')[0], r.what);
  });

  it('gives the same verdict and reason through both paths, for every row', async () => {
    for (const [i, r] of rows.entries()) {
      // the store path: what `coreforge store account add --ssh-key` reaches
      const email = `owner${i}@example.com`;
      const stored = await store.addAccount(email, `owner${i}`, [r.line]).then(
        (a) => ({ ok: true as const, keys: a.sshKeys }),
        (err: Error & { kind?: string }) => ({ ok: false as const, kind: err.kind, message: err.message }),
      );
      // the device path: console-conf looking the account up in the SSO, which answers with the key
      const reply = JSON.stringify({ username: `owner${i}`, ssh_keys: [r.line] });
      const fetch: FetchFn = async () => ({ status: 200, text: async () => reply });
      const device = await resolveIdentity({ source: 'store', email }, { ssoUrl: 'http://sso.invalid', githubUrl: '', launchpadUrl: '' }, { fetch }).then(
        (id) => ({ ok: true as const, keys: id.keys }),
        (err: Error & { kind?: string }) => ({ ok: false as const, kind: err.kind, message: err.message }),
      );
      if (r.why === null) {
        assert.deepEqual(stored, { ok: true, keys: [r.line] }, r.what);
        assert.equal(device.ok, true, `${r.what}: ${JSON.stringify(device)}`);
        assert.deepEqual(device.ok && device.keys.map((k) => `${k.type} ${k.data} ${k.comment}`), [r.line], r.what);
      } else {
        const shown = shownKeyLine(r.line);
        assert.deepEqual(
          stored,
          { ok: false, kind: 'invalid-account', message: `cannot use SSH key ${shown}: ${r.why}; give the line of an OpenSSH .pub file as it is, without options` },
          r.what,
        );
        assert.deepEqual(
          device,
          { ok: false, kind: 'invalid-ssh-key', message: `cannot use the SSH key ${shown} from store account ${email}: ${r.why}; remove or fix that key at its source` },
          r.what,
        );
      }
    }
  });

  it('keeps no account whose key was refused', async () => {
    for (const [i, r] of rows.entries()) assert.equal((await store.accountByEmail(`owner${i}@example.com`)) !== undefined, r.why === null, r.what);
  });
});

describe('the SSH key rule', () => {
  it('takes a line as it comes from a .pub file: blanks around it and its newline', () => {
    const line = craftedKey('ssh-ed25519');
    assert.deepEqual(parseSshPublicKey(`  ${line}\n`), { type: 'ssh-ed25519', data: line.split(' ')[1], comment: 'old@host' });
  });

  it('refuses a line over 16 KiB before reading it, and says so apart from other refusals', () => {
    const line = `${craftedKey('ssh-ed25519')} ${'c'.repeat(16 * 1024)}`;
    assert.deepEqual(parseSshPublicKey(line), { why: `its line is ${Buffer.byteLength(line)} bytes, over the limit of 16 KiB a key`, tooLong: true });
  });
});
