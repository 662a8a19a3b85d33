// Changes through the real coreforged: a change whose stored data was damaged
// in state.db is reported with its own kind, before and after a restart, and
// neither the daemon nor the listing falls over.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ChangeInfo } from '../../../daemon/api/types.js';
import { Database } from '../../../daemon/db/database.js';
import { runCli, startDaemon, type DaemonProcess } from '../../helpers/daemon.js';
import { makeTempDir } from '../../helpers/tmp.js';

describe('changes whose stored data no longer parses', () => {
  let tmp: { dir: string; cleanup(): Promise<void> };
  let daemon: DaemonProcess;
  const opts = () => ({ socketPath: join(tmp.dir, 'd.sock'), stateDir: join(tmp.dir, 'state') });
  const get = (id: string) => daemon.transport.call<ChangeInfo>('GET', `/v1/changes/${id}`);
  const waitFor = async (id: string, done: (c: ChangeInfo) => boolean): Promise<ChangeInfo> => {
    for (;;) {
      const change = await get(id);
      if (done(change)) return change;
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  /** Runs SQL on the daemon's state.db from outside, as a damaged disk or a hand edit would change it. */
  const damage = async (sql: string, params: number[]) => {
    const db = await Database.open(join(opts().stateDir, 'state.db'));
    try {
      await db.run(sql, params);
    } finally {
      await db.close();
    }
  };

  before(async () => {
    tmp = await makeTempDir();
    daemon = await startDaemon(opts());
  });
  after(async () => {
    await daemon?.stop();
    await tmp.cleanup();
  });

  it('reports them as stored-change-unreadable on GET and in the listing, and again after a restart', async () => {
    const key = await daemon.transport.call<string>('POST', '/v1/keys', { action: 'create', name: 'damaged', passphrase: 'a good passphrase' });
    assert.equal((await waitFor(key, (c) => c.ready)).status, 'Done');
    const sleeping = await daemon.transport.call<string>('POST', '/v1/test/changes', { tasks: [{ kind: 'test-sleep', data: { ms: 60_000 } }] });
    await waitFor(sleeping, (c) => c.status === 'Doing');
    await damage(`UPDATE tasks SET data = '{"name": "damaged"}' WHERE change_id = ?`, [Number(key)]);
    await damage(`UPDATE tasks SET data = 'garbage' WHERE change_id = ?`, [Number(sleeping)]);
    const [keyTask] = (await get(key)).tasks;
    const keyMessage = `cannot use change ${key}: the data of its task ${keyTask!.id} (kind "create-key") no longer parses in state.db: "passphrase-token" must be a non-empty string; the change cannot run, start the operation again`;

    const check = async (when: string) => {
      const k = await get(key);
      assert.deepEqual([k.status, k['err-kind'], k.err], ['Done', 'stored-change-unreadable', keyMessage], when);
      assert.deepEqual(k['err-details'], { change: key, task: keyTask!.id, 'task-kind': 'create-key', 'data-of': 'task', field: 'passphrase-token' }, when);
      const s = await get(sleeping);
      assert.equal(s['err-kind'], 'stored-change-unreadable', when);
      assert.match(s.err!, new RegExp(`^cannot use change ${sleeping}: the data of its task \\d+ \\(kind "test-sleep"\\) no longer parses in state.db: "data" is not JSON`), when);
      assert.equal(s['err-details']!.field, 'data', when);
      const all = await daemon.transport.call<ChangeInfo[]>('GET', '/v1/changes?select=all');
      assert.deepEqual(
        all.filter((c) => c.id === key || c.id === sleeping).map((c) => c['err-kind']),
        ['stored-change-unreadable', 'stored-change-unreadable'],
        when,
      );
      const listed = await runCli(['changes', '--select', 'all'], { socketPath: daemon.socketPath });
      assert.equal(listed.code, 0, listed.stderr);
      assert.match(listed.stdout, new RegExp(`^${key}\\s`, 'm'), 'the CLI lists the damaged change');
      return s;
    };
    const running = await check('while the daemon runs');
    assert.equal(running.status, 'Doing', 'the running task is not touched: only what is shown says its data broke');

    assert.equal(await daemon.stop(), 0);
    daemon = await startDaemon(opts());
    const restarted = await check('after a restart');
    assert.equal(restarted.status, 'Error');
    assert.deepEqual([restarted['err-details']!['previous-err'], restarted['err-details']!['previous-err-kind']], ['daemon stopped', 'interrupted']);
    assert.doesNotMatch(daemon.logs(), /internal error|TypeError|SyntaxError/);
  });
});
