import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { join } from 'node:path';
import { daemonCaller } from '../../../daemon/caller/caller.js';
import type { CoreforgeError } from '../../../daemon/errors.js';
import { Keyring, rsaKeyGenerator } from '../../../daemon/keys/index.js';
import { PassphraseVault } from '../../../daemon/keys/passphrases.js';
import { createKeyTask, createKeyTaskKind, startCreateKey } from '../../../daemon/keys/task.js';
import { useEngine } from '../../helpers/engine.js';
import { makeTempDir } from '../../helpers/tmp.js';

describe('the key creation task kind through the change engine', () => {
  const use = useEngine();
  let keyring: Keyring;
  let vault: PassphraseVault;

  beforeEach(async () => {
    const tmp = await makeTempDir();
    // 2048 bits keep the run fast; the daemon's default is rsaKeyGenerator(4096)
    keyring = await new Keyring({ db: use.db(), dir: join(tmp.dir, 'keys'), generate: rsaKeyGenerator(2048) }).open();
    vault = new PassphraseVault(60_000, use.clock());
    use.engine().register(createKeyTask(keyring, vault));
  });

  it('creates the key, reports steps, and keeps the passphrase out of state.db', async () => {
    const id = await startCreateKey({ engine: use.engine(), keyring, vault }, daemonCaller, 'dev', 'the-Passphrase-42');
    const change = await use.waitReady(id);
    assert.equal(change.status, 'Done', change.err);
    const task = change.tasks[0]!;
    assert.equal(task.progress?.unit, 'steps');
    assert.equal(task.progress?.done, task.progress?.total);
    const key = (await keyring.list()).find((k) => k.name === 'dev');
    assert.ok(key, 'the key is in the keyring');
    assert.deepEqual(change.tasks.map((t) => t.status), ['Done']);
    const result = JSON.stringify(change.result ?? (await use.db().all<{ result: string }>('SELECT result FROM tasks'))[0]?.result);
    assert.match(result, new RegExp(`"sha3-384":"${key.id}"`), 'the task reports the key it made');
    const rows = await use.db().all<{ data: string }>('SELECT data FROM tasks');
    assert.ok(rows.length > 0 && rows.every((r) => !r.data.includes('the-Passphrase-42')), 'no passphrase in the stored task data');
  });

  it('fails with passphrase-required when the vault no longer holds the passphrase (a daemon restart)', async () => {
    const id = await startCreateKey({ engine: use.engine(), keyring, vault: new PassphraseVault(60_000, use.clock()) }, daemonCaller, 'lost', 'the-Passphrase-42');
    const change = await use.waitReady(id);
    assert.equal(change.status, 'Error');
    assert.equal(change['err-kind'], 'passphrase-required');
    assert.match(change.err!, /cannot create key "lost": its passphrase was held in memory only and is gone/);
  });

  it('refuses task data without a passphrase token when the change is created', async () => {
    await assert.rejects(
      use.engine().create({ owner: daemonCaller, kind: createKeyTaskKind, summary: 'Create key "x"', tasks: [{ kind: createKeyTaskKind, summary: 'x', data: { name: 'x' } }] }),
      (err: CoreforgeError) => err.kind === 'bad-task-data' && err.details?.field === 'passphrase-token',
    );
  });
});
