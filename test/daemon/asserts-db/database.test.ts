import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkChain, encodeAssertion, encodePublicKey, encodeStream, signAssertion, type Signer } from '../../../daemon/asserts/index.js';
import { SqliteAssertionDatabase, loadRoots, verifyAssertions } from '../../../daemon/asserts-db/index.js';
import { Database } from '../../../daemon/db/database.js';
import { migrate } from '../../../daemon/db/migrations.js';
import { isCoreforgeError } from '../../../daemon/errors.js';
import { makeTempDir } from '../../helpers/tmp.js';
import { chainsDir, fixturesDir, signerFromArmored } from '../asserts/helpers.js';

const vector = (f: string) => readFileSync(join(chainsDir, f), 'utf8');

async function failure(fn: () => Promise<unknown>): Promise<{ kind: string; message: string; details?: Record<string, unknown> }> {
  try {
    await fn();
  } catch (err) {
    assert.ok(isCoreforgeError(err), String(err));
    return { kind: err.kind, message: err.message, details: err.details };
  }
  assert.fail('expected an error');
}

describe('assertion database in sqlite', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let db: Database;
  let adb: SqliteAssertionDatabase;
  let developer1: Signer;

  before(async () => {
    ({ dir, cleanup } = await makeTempDir());
    db = await Database.open(join(dir, 'state.db'));
    await migrate(db);
    adb = await new SqliteAssertionDatabase(db, loadRoots()).open();
    developer1 = await signerFromArmored(join(fixturesDir, 'developer1.private.asc'));
  });
  after(async () => {
    await db.close();
    await cleanup();
  });

  it('ships Canonical\'s root account-key and account as the built-in trusted roots', () => {
    const roots = adb.trustedRoots();
    assert.deepEqual(roots.accountKeys.map((a) => a.headers['public-key-sha3-384']), ['-CvQKAwRQ5h3Ffn10FILJoEZUXOv6km9FwA80-Rcj-f-6jadQ89VRswHNiEB9Lxk']);
    assert.deepEqual(roots.accounts?.map((a) => a.headers['account-id']), ['canonical']);
    assert.equal(encodeAssertion(roots.accountKeys[0]!), vector('canonical-root/root.account-key'));
  });

  it('adds the generic chain as one stream in any order, then finds each part by primary key', async () => {
    const stream = encodeStream(
      ['generic/generic-classic.model', 'generic/generic-models.account-key', 'generic/generic.account'].map((f) => ({
        content: Buffer.from(vector(f).slice(0, vector(f).lastIndexOf('\n\n'))),
        signature: vector(f).slice(vector(f).lastIndexOf('\n\n') + 2).trimEnd(),
      })),
    );
    const added = await adb.add(stream);
    assert.deepEqual(added.map((a) => a.type), ['model', 'account-key', 'account']);
    const model = await adb.find('model', ['16', 'generic', 'generic-classic']);
    assert.equal(model && encodeAssertion(model), vector('generic/generic-classic.model'));
    assert.equal((await adb.findAccount('generic'))?.headers['display-name'], 'Generic');
    assert.equal((await adb.findAccount('canonical'))?.headers['account-id'], 'canonical');
    // what the image pipeline does: checkChain with this database's lookups
    const verdict = await checkChain(model!, { trusted: adb.trustedRoots(), findAccountKey: adb.findAccountKey, findAccount: adb.findAccount });
    assert.deepEqual(verdict.chain.map((a) => a.type), ['model', 'account-key', 'account-key']);
  });

  it('lists by type with header filters, built-in roots included', async () => {
    assert.equal((await adb.query('account')).length, 2);
    assert.deepEqual((await adb.query('account', { 'account-id': 'generic' })).map((a) => a.headers['account-id']), ['generic']);
    assert.deepEqual(await adb.query('model', { model: 'nope' }), []);
    assert.equal((await failure(() => adb.query('no-such-type'))).kind, 'unknown-assertion-type');
  });

  it('refuses an assertion whose chain does not reach a trusted root, naming what is missing', async () => {
    const err = await failure(() => adb.add(vector('snapd-testkeys/developer1-pc.model')));
    assert.equal(err.kind, 'missing-assertion');
    assert.equal(err.message, 'cannot add model "16/developer1/my-model": no matching public key "EAD4DbLxK_kn0gzNCXOs3kd6DeMU3f-L6BEsSEuJGBqCORR0gXkdDxMbOm11mRFu" for signature by "developer1"');
  });

  it('refuses a tampered assertion, a no-authority type and an empty input', async () => {
    const tampered = vector('generic/generic.account').replace('display-name: Generic', 'display-name: Generix');
    assert.equal((await failure(() => adb.add(tampered))).kind, 'invalid-signature');
    const request = signAssertion(
      'account-key-request',
      { 'account-id': 'developer1', name: 'k', since: '2020-01-01T00:00:00Z', 'public-key-sha3-384': developer1.publicKey.id },
      encodePublicKey(developer1.publicKey),
      developer1,
      { time: new Date('2020-01-01T00:00:00Z') },
    );
    const noAuthority = await failure(() => adb.add(encodeAssertion(request)));
    assert.match(noAuthority.message, /"account-key-request" assertions have no authority and are not stored/);
    const err = await failure(() => adb.add(''));
    assert.equal(err.message, 'cannot add assertions: the input holds no assertion; give the text of one or more assertions');
  });

  it('accepts user-added roots, which persist across reopening', async () => {
    await adb.addTrusted(vector('snapd-testkeys/test-root.account-key') + '\n' + vector('snapd-testkeys/testrootorg.account'));
    const chain = ['test-store.account-key', 'developer1.account-key', 'developer1.account', 'developer1-pc.model'].map((f) => vector(`snapd-testkeys/${f}`));
    assert.equal((await adb.add(chain.join('\n'))).length, 4);
    const reopened = await new SqliteAssertionDatabase(db, loadRoots()).open();
    assert.equal(reopened.trustedRoots().accountKeys.length, 2);
    assert.ok(await reopened.find('model', ['16', 'developer1', 'my-model']));
    const err = await failure(() => adb.addTrusted(vector('snapd-testkeys/developer1-pc.model')));
    assert.equal(err.message, 'cannot trust model "16/developer1/my-model": only account-key and account assertions can be trusted roots');
  });

  it('keeps the highest revision and skips older or equal ones, as snap ack does', async () => {
    const headers = (revision: string, color: string) => ({
      'authority-id': 'developer1',
      'brand-id': 'developer1',
      series: '16',
      model: 'revised',
      architecture: 'amd64',
      gadget: 'pc',
      kernel: 'pc-kernel',
      revision,
      'display-name': color,
      timestamp: '2020-01-01T00:00:00Z',
    });
    const sign = (revision: string, color: string) =>
      encodeAssertion(signAssertion('model', headers(revision, color), undefined, developer1, { time: new Date('2020-01-01T00:00:00Z') }));
    assert.equal((await adb.add(sign('2', 'two'))).length, 1);
    assert.equal((await adb.add(sign('1', 'one'))).length, 0);
    assert.equal((await adb.add(sign('2', 'two again'))).length, 0);
    assert.equal((await adb.find('model', ['16', 'developer1', 'revised']))?.headers['display-name'], 'two');
    assert.equal((await adb.add(sign('3', 'three'))).length, 1);
    const found = await adb.find('model', ['16', 'developer1', 'revised']);
    assert.equal(found?.revision, 3);
    assert.equal((await adb.query('model', { model: 'revised' })).length, 1);
  });

  it('verifies without storing: per-assertion verdicts, with extra trusted roots for this check only', async () => {
    const own = signAssertion(
      'model',
      { 'authority-id': 'acme', 'brand-id': 'acme', series: '16', model: 'm', architecture: 'amd64', gadget: 'pc', kernel: 'pc-kernel', timestamp: '2020-01-01T00:00:00Z' },
      undefined,
      developer1,
      { time: new Date('2020-01-01T00:00:00Z') },
    );
    const text = encodeStream([own, { content: Buffer.from(vector('generic/generic.account').split('\n\n')[0]!), signature: vector('generic/generic.account').split('\n\n')[1]!.trimEnd() }]);
    const [bad, good] = await verifyAssertions(adb, text);
    assert.equal(bad!.valid, false);
    assert.equal(bad!.kind, 'untrusted');
    assert.deepEqual(bad!['primary-key'], ['16', 'acme', 'm']);
    assert.equal(good!.valid, true);
    assert.equal(good!.reason, 'signature chain of 1 key up to the trusted root key "-CvQKAwRQ5h3Ffn10FILJoEZUXOv6km9FwA80-Rcj-f-6jadQ89VRswHNiEB9Lxk" of "canonical"');
    assert.equal(await adb.find('model', ['16', 'acme', 'm']), undefined);
    const acmeRoot = signAssertion(
      'account-key',
      { 'authority-id': 'acme', 'account-id': 'acme', name: 'acme-root', since: '2016-01-01T00:00:00Z', 'public-key-sha3-384': developer1.publicKey.id },
      encodePublicKey(developer1.publicKey),
      developer1,
      { time: new Date('2020-01-01T00:00:00Z') },
    );
    const [trusted] = await verifyAssertions(adb, encodeAssertion(own), encodeAssertion(acmeRoot));
    assert.equal(trusted!.valid, true, trusted!.reason);
    assert.equal(trusted!.root, developer1.publicKey.id);
    assert.equal((await verifyAssertions(adb, encodeAssertion(own)))[0]!.valid, false, 'the extra root is not remembered');
  });
});
