import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as openpgp from 'openpgp';
import { checkChain, decodeAssertion, publicKeyFromOpenPGP, verifyAssertionSignature, type AccountKeyRequestInfo } from '../../../daemon/asserts/index.js';
import { Database } from '../../../daemon/db/database.js';
import { migrate } from '../../../daemon/db/migrations.js';
import { isCoreforgeError } from '../../../daemon/errors.js';
import { Keyring, rsaKeyGenerator } from '../../../daemon/keys/index.js';
import { writeKeyFile } from '../../../daemon/keys/files.js';
import { gpgExportPublic, makeGnupgHome } from '../../helpers/gnupg.js';
import { makeTempDir } from '../../helpers/tmp.js';
import { chainsDir, fixturesDir, loadAssertion } from '../asserts/helpers.js';

/** Runs fn and returns the CoreforgeError it throws, as {kind, message}. */
async function failure(fn: () => Promise<unknown>): Promise<{ kind: string; message: string }> {
  try {
    await fn();
  } catch (err) {
    assert.ok(isCoreforgeError(err), String(err));
    return { kind: err.kind, message: err.message };
  }
  assert.fail('expected an error');
}

describe('keyring', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let db: Database;
  let keyring: Keyring;
  const testRootArmored = () => readFile(join(chainsDir, 'snapd-testkeys/test-root.private.asc'), 'utf8');

  before(async () => {
    ({ dir, cleanup } = await makeTempDir());
    db = await Database.open(join(dir, 'state.db'));
    await migrate(db);
    // 2048 bits keep the run fast; the daemon's default is rsaKeyGenerator(4096)
    keyring = await new Keyring({ db, dir: join(dir, 'keys'), generate: rsaKeyGenerator(2048), now: () => new Date('2024-03-04T05:06:07Z') }).open();
  });
  after(async () => {
    await db.close();
    await cleanup();
  });

  it('gives each snapd test key the SHA3-384 id its account-key carries', async () => {
    for (const [name, file, akFile] of [
      ['test-root', join(chainsDir, 'snapd-testkeys/test-root.private.asc'), 'test-root.account-key'],
      ['test-store', join(chainsDir, 'snapd-testkeys/test-store.private.asc'), 'test-store.account-key'],
      ['developer1', join(fixturesDir, 'developer1.private.asc'), 'developer1.account-key'],
    ] as const) {
      const entry = await keyring.importArmored(name, await readFile(file, 'utf8'), 'test passphrase');
      const ak = loadAssertion('chains', 'snapd-testkeys', akFile);
      assert.equal(entry.id, ak.headers['public-key-sha3-384'], name);
    }
    assert.deepEqual((await keyring.list()).map((k) => k.name), ['developer1', 'test-root', 'test-store']);
  });

  it('stores keys encrypted, 0600 in a 0700 directory, and never the passphrase in state.db', async () => {
    assert.equal((await stat(join(dir, 'keys'))).mode & 0o777, 0o700);
    const entry = await keyring.get('test-root');
    assert.equal((await stat(entry.path)).mode & 0o777, 0o600);
    const stored = await openpgp.readPrivateKey({ armoredKey: await readFile(entry.path, 'utf8') });
    assert.equal(stored.isDecrypted(), false);
    assert.deepEqual((await readdir(join(dir, 'keys'))).filter((f) => f.endsWith('.tmp')), []);
    await db.run('PRAGMA wal_checkpoint(FULL)');
    for (const f of ['state.db', 'state.db-wal']) {
      const bytes = await readFile(join(dir, f)).catch(() => Buffer.alloc(0));
      assert.equal(bytes.includes('test passphrase'), false, f);
    }
  });

  it('creates keys as snapd does: RSA, user id the key name, created 2016-01-01, no subkey', async () => {
    const entry = await keyring.create('made-here', 'pw-made', () => {});
    const stored = await openpgp.readPrivateKey({ armoredKey: await readFile(entry.path, 'utf8') });
    assert.equal(stored.getCreationTime().toISOString(), '2016-01-01T00:00:00.000Z');
    assert.deepEqual(stored.getUserIDs(), ['made-here']);
    assert.equal(stored.getSubkeys().length, 0);
    assert.equal(publicKeyFromOpenPGP(stored).id, entry.id);
    assert.equal(entry.created, '2024-03-04T05:06:07.000Z');
  });

  it('reports create progress as phases out of 3', async () => {
    const phases: string[] = [];
    await keyring.create('progress-key', 'pw', (phase, done, total) => phases.push(`${phase} ${done}/${total}`));
    assert.deepEqual(phases, ['generating RSA key 0/3', 'encrypting key 1/3', 'storing key 2/3', 'stored 3/3']);
  });

  it('exports the public key in account-key body form, as the account-key vector has it', async () => {
    const { publicKey } = await keyring.exportPublicKey('test-root');
    const ak = loadAssertion('chains', 'snapd-testkeys', 'test-root.account-key');
    assert.equal(publicKey, Buffer.from(ak.body).toString('utf8'));
  });

  it('exports a self-signed account-key-request without authority-id', async () => {
    const req = await keyring.accountKeyRequest('test-root', 'my-account', 'test passphrase');
    const text = Buffer.from(req.content).toString();
    assert.match(text, /^type: account-key-request\npublic-key-sha3-384: hIedp1Av[^\n]+\naccount-id: my-account\nname: test-root\nsince: 2024-03-04T05:06:07Z\nbody-length: \d+\nsign-key-sha3-384: hIedp1Av/);
    assert.equal(req.headers['authority-id'], undefined);
    const decoded = decodeAssertion(`${text}\n\n${req.signature}\n`);
    const info = decoded.info as AccountKeyRequestInfo;
    verifyAssertionSignature(decoded, info.publicKey);
    const verdict = await checkChain(decoded, { trusted: { accountKeys: [] }, findAccountKey: () => undefined });
    assert.equal(verdict.root, null);
  });

  it('refuses bad names, taken names, the same key twice, wrong and empty passphrases, with clear errors', async () => {
    const armored = await testRootArmored();
    const cases: [string, () => Promise<unknown>, string, string][] = [
      ['an invalid name', () => keyring.importArmored('Bad_Name', armored, 'pw'), 'invalid-key-name', 'key name "Bad_Name" is not valid; only ASCII letters, digits, and hyphens are allowed'],
      ['a name of digits only', () => keyring.create('1234', 'pw'), 'invalid-key-name', 'key name "1234" is not valid'],
      ['a double hyphen', () => keyring.create('a--b', 'pw'), 'invalid-key-name', 'key name "a--b" is not valid'],
      ['a taken name', () => keyring.create('test-root', 'pw'), 'key-exists', 'key named "test-root" already exists in coreforge keyring; choose another name, or delete the old key first with "coreforge delete-key test-root"'],
      ['the same key under another name', () => keyring.importArmored('again', armored, 'pw'), 'key-exists', 'cannot add key "again": the same key is already in coreforge keyring as "test-root"'],
      ['an empty passphrase', () => keyring.create('no-pass', ''), 'passphrase-required', 'cannot create key "no-pass": a non-empty passphrase is required'],
      ['a wrong passphrase to sign', () => keyring.signer('test-root', 'nope'), 'wrong-passphrase', 'cannot use "test-root" key: wrong passphrase'],
      ['a wrong passphrase to delete', () => keyring.delete('test-root', 'nope'), 'wrong-passphrase', 'cannot delete key named "test-root": wrong passphrase'],
      ['an unknown key to sign', () => keyring.signer('missing', 'pw'), 'key-not-found', 'cannot use "missing" key: cannot find key pair in coreforge keyring; list the keys with "coreforge keys"'],
      ['an unknown key to export', () => keyring.exportPublicKey('missing'), 'key-not-found', 'cannot export key named "missing": cannot find key pair in coreforge keyring'],
      ['an unknown key to delete', () => keyring.delete('missing', 'pw'), 'key-not-found', 'cannot delete key named "missing": cannot find key pair in coreforge keyring'],
      ['a public key only', () => keyring.importArmored('pub-only', '-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nxx\n-----END PGP PUBLIC KEY BLOCK-----\n', 'pw'), 'key-import-failed', 'cannot import key "pub-only": the armored key holds a public key only'],
      ['text that is no key', () => keyring.importArmored('garbage', 'hello', 'pw'), 'key-import-failed', 'cannot import key "garbage": the armored key is not an armored OpenPGP private key'],
      ['an account-key-request without account', () => keyring.accountKeyRequest('test-root', '', 'test passphrase'), 'invalid-account-id', 'cannot export key named "test-root" as an account-key-request: an account id is required'],
    ];
    for (const [what, fn, kind, message] of cases) {
      const err = await failure(fn);
      assert.equal(err.kind, kind, what);
      assert.ok(err.message.startsWith(message), `${what}: ${err.message}`);
    }
  });

  it('re-encrypts an imported encrypted key, which then opens with the same passphrase', async () => {
    const { privateKey } = await openpgp.generateKey({ type: 'rsa', rsaBits: 2048, userIDs: [{ name: 'enc' }], passphrase: 'outer', format: 'object', subkeys: [] });
    const armored = privateKey.armor();
    assert.equal((await failure(() => keyring.importArmored('enc', armored, 'wrong'))).kind, 'wrong-passphrase');
    const entry = await keyring.importArmored('enc', armored, 'outer');
    assert.equal((await keyring.signer('enc', 'outer')).publicKey.id, entry.id);
  });

  it('never overwrites a key file', async () => {
    const keysDir = join(dir, 'keys');
    await writeFile(join(keysDir, 'taken.asc'), 'original', { mode: 0o600 });
    const err = await failure(() => writeKeyFile(keysDir, 'taken.asc', 'replacement'));
    assert.equal(err.kind, 'key-exists');
    assert.equal(await readFile(join(keysDir, 'taken.asc'), 'utf8'), 'original');
  });

  it('deletes a key, its file and its row, only with its passphrase', async () => {
    const entry = await keyring.get('enc');
    await keyring.delete('enc', 'outer');
    await assert.rejects(stat(entry.path), { code: 'ENOENT' });
    assert.equal((await keyring.list()).some((k) => k.name === 'enc'), false);
  });

  describe('import from a gnupg home', () => {
    let gnupg: ReturnType<typeof makeGnupgHome>;
    before(() => {
      gnupg = makeGnupgHome(dir, { name: 'gpg-key', passphrase: 'gpg pass' });
    });
    after(() => gnupg.dispose());

    it('gives the key the id snapd computes from the public key gpg exports', async () => {
      const entry = await keyring.importGnupg('from-gpg', gnupg.home, 'gpg-key', 'gpg pass');
      const exported = await openpgp.readKey({ binaryKey: gpgExportPublic(gnupg.home, 'gpg-key') });
      assert.equal(entry.id, publicKeyFromOpenPGP(exported).id);
      assert.equal((await keyring.signer('from-gpg', 'gpg pass')).publicKey.id, entry.id);
    });

    it('says which passphrase or name was wrong', async () => {
      const wrong = await failure(() => keyring.importGnupg('gpg-wrong', gnupg.home, 'gpg-key', 'not it'));
      assert.equal(wrong.kind, 'wrong-passphrase');
      assert.equal(wrong.message, `cannot import key "gpg-key" from gnupg home ${gnupg.home}: wrong passphrase; give the passphrase that protects it in that keyring`);
      const missing = await failure(() => keyring.importGnupg('gpg-missing', gnupg.home, 'no-such-key', 'gpg pass'));
      assert.equal(missing.kind, 'key-not-found');
      assert.ok(missing.message.startsWith(`cannot find key named "no-such-key" in gnupg home ${gnupg.home}: `), missing.message);
    });
  });
});
