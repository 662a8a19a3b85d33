// Tool errors through the real coreforged: a missing tool and a failing tool
// answer with different kinds, and the error's details reach the API's value.
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ApiResponse } from '../../../daemon/api/types.js';
import { startDaemon, type DaemonProcess } from '../../helpers/daemon.js';
import { makeTempDir } from '../../helpers/tmp.js';

type ErrorAnswer = ApiResponse & { result: { kind: string; message: string; value?: Record<string, unknown> } };

describe('tool errors through coreforged', () => {
  let tmp: { dir: string; cleanup(): Promise<void> };
  let bogus: string;
  const daemons: DaemonProcess[] = [];
  const start = async (name: string, env: NodeJS.ProcessEnv = {}) => {
    const d = await startDaemon({ socketPath: join(tmp.dir, `${name}.sock`), stateDir: join(tmp.dir, name), env });
    daemons.push(d);
    return d;
  };
  const validate = async (d: DaemonProcess) => (await d.transport.raw('POST', '/v1/gadget/validate', { path: bogus })) as ErrorAnswer;

  before(async () => {
    tmp = await makeTempDir();
    await mkdir(join(tmp.dir, 'in'));
    bogus = join(tmp.dir, 'in', 'bogus-gadget.snap');
    await writeFile(bogus, 'this is no squashfs\n'.repeat(100));
  });
  after(async () => {
    for (const d of daemons) await d.stop();
    await tmp.cleanup();
  });

  it('answers tool-missing with the Debian package when the tool is not installed', async () => {
    // a PATH without unsquashfs: as on a host where squashfs-tools was never installed
    await mkdir(join(tmp.dir, 'empty-path'));
    const d = await start('no-tools', { PATH: join(tmp.dir, 'empty-path') });
    const res = await validate(d);
    assert.deepEqual([res.type, res.result.kind], ['error', 'tool-missing']);
    assert.equal(res.result.message, `cannot unpack gadget snap ${bogus}: unsquashfs is not installed; install the Debian package squashfs-tools (sudo apt install squashfs-tools)`);
    assert.deepEqual(res.result.value, { tool: 'unsquashfs', package: 'squashfs-tools' });
  });

  it("answers build-tool-failed with the tool's stderr tail in the value when the tool fails", async () => {
    const d = await start('tools');
    const res = await validate(d);
    assert.deepEqual([res.type, res.result.kind], ['error', 'build-tool-failed']);
    assert.match(res.result.message, new RegExp(`^cannot unpack gadget snap ${bogus}: unsquashfs failed: .+`));
    const value = res.result.value!;
    assert.equal(value.tool, 'unsquashfs');
    assert.equal(typeof value['exit-code'], 'number');
    assert.notEqual(value['exit-code'], 0);
    assert.ok(typeof value.stderr === 'string' && value.stderr !== '', 'the stderr tail is kept');
    assert.ok(res.result.message.endsWith((value.stderr as string).trim().split('\n').slice(-3).join('; ')), 'the message ends with the last lines of that tail');
  });
});
