import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  checkChain,
  createChainCache,
  decodeAssertion,
  decodeStream,
  encodeAssertion,
  signAssertion,
  signerFromKeyObject,
  encodePublicKey,
  formatRFC3339,
} from '../../../daemon/asserts/index.js';
import { generateKeyPairSync } from 'node:crypto';
import { SqliteAssertionDatabase } from '../../../daemon/asserts-db/database.js';
import { loadRoots } from '../../../daemon/asserts-db/roots.js';
import type { Database } from '../../../daemon/db/database.js';
import { CoreforgeError } from '../../../daemon/errors.js';
import { localSnapId } from '../../../daemon/store/local/ids.js';
import type { LocalStore } from '../../../daemon/store/local/store.js';
import { hashPassword, totp } from '../../../daemon/store/local/secrets.js';
import type { BuiltFixture } from '../../fixtures/snaps.js';
import { makeTempDir } from '../../helpers/tmp.js';
import { openLocalStore, storeFixtures } from './helpers.js';

const sshKey = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl alice@laptop';

describe('local store', () => {
  let tmp: { dir: string; cleanup(): Promise<void> };
  let db: Database;
  let store: LocalStore;
  let fx: Record<string, BuiltFixture>;

  before(async () => {
    tmp = await makeTempDir('coreforge-localstore-');
    [{ db, store }, fx] = await Promise.all([openLocalStore(tmp.dir), storeFixtures(join(tmp.dir, 'snaps'))]);
  });
  after(async () => {
    await db.close();
    await tmp.cleanup();
  });

  it('creates its root and store keys on first use, private files 0600 in a 0700 directory', async () => {
    const id = await store.identity();
    assert.equal(id.rootAccountKey.headers['account-id'], id.accountId);
    assert.equal(id.storeAccountKey.signKeyId, id.rootAccountKey.headers['public-key-sha3-384']);
    for (const f of ['root.pem', 'store.pem', 'secret']) assert.equal((await stat(join(tmp.dir, 'store', 'keys', f))).mode & 0o777, 0o600, f);
    assert.equal((await stat(join(tmp.dir, 'store', 'keys'))).mode & 0o777, 0o700);
    assert.match(await readFile(join(tmp.dir, 'store', 'keys', 'root.pem'), 'utf8'), /ENCRYPTED PRIVATE KEY/);
    assert.equal((await store.identity()).accountId, id.accountId, 'identity is stable');
  });

  it('adds a snap with a predictable snap-id, the next revision and signed declaration and revision', async () => {
    const hello = fx['hello-coreforge-amd64']!;
    const r = await store.add(hello.path, '18/stable');
    assert.equal(r.snapId, localSnapId('hello-coreforge'));
    assert.equal(r.revision, 1);
    assert.equal(r.sha3_384, hello.sha3_384);
    assert.equal(r.size, hello.size);
    assert.deepEqual(r.channels, ['18/stable']);
    assert.equal(r.added, true);
    const again = await store.add(hello.path, '18/stable');
    assert.equal(again.revision, 1);
    assert.equal(again.added, false);
    const armhf = await store.add(fx['hello-coreforge-armhf']!.path);
    assert.equal(armhf.revision, 2);
    const rev = await store.findAssertion('snap-revision', [hello.sha3_384]);
    assert.equal(rev?.headers['snap-revision'], '1');
    assert.equal(rev?.headers['snap-size'], String(hello.size));
    const decl = await store.findAssertion('snap-declaration', ['16', r.snapId]);
    assert.equal(decl?.headers['snap-name'], 'hello-coreforge');
    assert.deepEqual(await readFile(store.blobPath(hello.sha3_384)), await readFile(hello.path));
  });

  it('signs what a database trusting only its root accepts', async () => {
    const adb = await new SqliteAssertionDatabase(db, loadRoots()).open();
    await adb.addTrusted(await store.rootText());
    const id = await store.identity();
    const r = (await store.list()).find((s) => s.name === 'hello-coreforge')!;
    await adb.add(encodeAssertion(id.storeAccountKey));
    await adb.add(encodeAssertion((await store.findAssertion('snap-declaration', ['16', r.snapId]))!));
    await adb.add(encodeAssertion((await store.findAssertion('snap-revision', [r.revisions[0]!.sha3_384]))!));
  });

  it('resolves a channel by architecture, closing risks onto more stable ones', async () => {
    assert.equal((await store.resolve('hello-coreforge', '18/stable', 'amd64')).revision, 1);
    assert.equal((await store.resolve('hello-coreforge', '18/edge', 'amd64')).revision, 1);
    await store.release('hello-coreforge', 2, '18/beta');
    assert.equal((await store.resolve('hello-coreforge', '18/edge', 'armhf')).revision, 2);
    const list = await store.list();
    assert.deepEqual(list.find((s) => s.name === 'hello-coreforge')?.channels, { '18/beta': { armhf: 2 }, '18/stable': { amd64: 1 } });
  });

  const resolveErrors: [string, string, string, string, string][] = [
    ['no-such-snap', 'stable', 'amd64', 'snap-not-found', 'cannot find snap "no-such-snap" in the local store; add it with `coreforge store add FILE`'],
    ['hello-coreforge', 'latest/stable', 'amd64', 'revision-not-found', 'cannot find a revision of snap "hello-coreforge" in channel latest/stable; release one with `coreforge store release hello-coreforge REVISION latest/stable`'],
    ['hello-coreforge', '18/stable', 's390x', 'revision-not-found', 'cannot find a revision of snap "hello-coreforge" for architecture s390x in channel 18/stable: the channel has only amd64, armhf; release a build for s390x'],
    ['hello-coreforge', '18/unstable', 'amd64', 'invalid-channel', 'cannot use channel "18/unstable": risk "unstable" is not one of stable, candidate, beta, edge; use TRACK/RISK such as "latest/stable" or "18/edge"'],
  ];
  for (const [name, channel, arch, kind, message] of resolveErrors) {
    it(`refuses to resolve ${name} ${channel} ${arch}: ${kind}`, async () => {
      await assert.rejects(store.resolve(name, channel, arch), (err: CoreforgeError) => {
        assert.equal(err.kind, kind);
        assert.equal(err.message, message);
        return true;
      });
    });
  }

  it('refuses to release a revision that does not exist', async () => {
    await assert.rejects(store.release('hello-coreforge', 9, 'stable'), {
      message: 'cannot find revision 9 of snap "hello-coreforge" in the local store; see `coreforge store list`',
    });
  });

  const badSnaps: [string, string][] = [
    ['bad-not-squashfs', 'it is not a squashfs file; give a .snap built by snapcraft or `snap pack`'],
    ['bad-no-snap-yaml', 'it has no meta/snap.yaml; a snap must carry its metadata in meta/snap.yaml'],
    ['bad-snap-yaml-syntax', 'meta/snap.yaml is not valid YAML: '],
    ['bad-snap-yaml-fields', 'meta/snap.yaml: invalid snap name: "Bad_Name!"'],
  ];
  for (const [id, why] of badSnaps) {
    it(`refuses to add ${id}`, async () => {
      const path = fx[id]!.path;
      await assert.rejects(store.add(path, 'stable'), (err: CoreforgeError) => {
        assert.equal(err.kind, 'invalid-snap');
        assert.ok(err.message.startsWith(`cannot add ${path} to the store: ${why}`), err.message);
        return true;
      });
    });
  }

  it('keeps accounts, checks passwords and one-time codes', async () => {
    const a = await store.addAccount('alice@example.com', 'alice', [sshKey], hashPassword('s3cret'));
    assert.equal(a.username, 'alice');
    assert.deepEqual(a.sshKeys, [sshKey]);
    assert.equal((await store.authenticate('alice@example.com', 's3cret')).accountId, a.accountId);
    await assert.rejects(store.authenticate('alice@example.com', 'wrong'), { message: 'Provided email/password is not correct.' });
    await store.addAccount('bob@example.com', 'bob', [], hashPassword('pw'), 'JBSWY3DPEHPK3PXP');
    await assert.rejects(store.authenticate('bob@example.com', 'pw'), { message: '2-factor authentication required.' });
    assert.equal((await store.authenticate('bob@example.com', 'pw', totp('JBSWY3DPEHPK3PXP', new Date()))).username, 'bob');
    assert.deepEqual((await store.listAccounts()).map((x) => x.email), ['alice@example.com', 'bob@example.com']);
    assert.ok(await store.findAssertion('account', [a.accountId]));
  });

  const accountErrors: [string, string, string[], string][] = [
    ['alice@example.com', 'alice2', [], 'cannot add account "alice@example.com": an account with email "alice@example.com" already exists; see `coreforge store account list`'],
    ['carol@example.com', 'alice', [], 'cannot add account "carol@example.com": an account with username "alice" already exists; see `coreforge store account list`'],
    ['not-an-email', 'x', [], 'cannot add account "not-an-email": it is not an email address'],
    ['dan@example.com', 'Dan!', [], 'cannot add account "dan@example.com": username "Dan!" must be 1 to 32 lowercase letters, digits, ".", "_" or "-", starting with a letter'],
    ['dan@example.com', 'dan', ['not a key'], 'cannot use SSH key "not a key": its type "not" is not one of ssh-ed25519, ssh-rsa, ecdsa-sha2-nistp256, ecdsa-sha2-nistp384, ecdsa-sha2-nistp521, sk-ssh-ed25519@openssh.com, sk-ecdsa-sha2-nistp256@openssh.com; give the line of an OpenSSH .pub file as it is, without options'],
  ];
  for (const [email, username, keys, message] of accountErrors) {
    it(`refuses account ${email} ${username}`, async () => {
      await assert.rejects(store.addAccount(email, username, keys), { message });
    });
  }

  it('registers a developer key as an account-key that chains to the local root, once', async () => {
    const alice = (await store.accountByEmail('alice@example.com'))!;
    const signer = signerFromKeyObject(generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey);
    const now = new Date(Math.floor(Date.now() / 1000) * 1000);
    const req = signAssertion(
      'account-key-request',
      { 'account-id': alice.accountId, name: 'default', 'public-key-sha3-384': signer.publicKey.id, since: formatRFC3339(now) },
      encodePublicKey(signer.publicKey),
      signer,
      { time: now },
    );
    const key = await store.registerAccountKey(alice.accountId, encodeAssertion(req));
    assert.equal(key.headers['account-id'], alice.accountId);
    assert.deepEqual((await store.accountKeys(alice.accountId)).map((k) => k.headers.name), ['default']);
    await assert.rejects(store.registerAccountKey(alice.accountId, encodeAssertion(req)), {
      message: `cannot register key "default": it is already registered with account "${alice.accountId}"`,
    });
    const id = await store.identity();
    const roots = decodeStream(await store.rootText());
    const all = [id.storeAccountKey, key];
    const verdict = await checkChain(decodeAssertion(encodeAssertion(key)), {
      trusted: { accountKeys: roots.filter((r) => r.type === 'account-key'), accounts: roots.filter((r) => r.type === 'account') },
      findAccountKey: (k) => all.find((a) => a.headers['public-key-sha3-384'] === k),
      findAccount: (acc) => (acc === alice.accountId ? store.findAssertion('account', [acc]) : undefined),
      cache: createChainCache(),
    });
    assert.equal(verdict.chain.length, 3);
  });
});
