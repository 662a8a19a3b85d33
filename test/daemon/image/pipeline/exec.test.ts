// The build's tool runner: each way a tool can fail has its own error kind,
// so clients branch on kind, never on message text.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CoreforgeError } from '../../../../daemon/errors.js';
import { runTool } from '../../../../daemon/image/pipeline/exec.js';

async function failure(p: Promise<unknown>): Promise<{ kind: string; message: string; details: Record<string, unknown> | undefined }> {
  try {
    await p;
  } catch (err) {
    const e = err as CoreforgeError;
    return { kind: e.kind, message: e.message, details: e.details };
  }
  throw new Error('the tool did not fail');
}

describe('runTool errors', () => {
  it('says a missing tool is tool-missing, naming the Debian package that ships it', async () => {
    assert.deepEqual(await failure(runTool('/nonexistent/bin/mkfs.vfat', [], { what: 'make the vfat filesystem of structure #0' })), {
      kind: 'tool-missing',
      message: 'cannot make the vfat filesystem of structure #0: /nonexistent/bin/mkfs.vfat is not installed; install the Debian package dosfstools (sudo apt install dosfstools)',
      details: { tool: '/nonexistent/bin/mkfs.vfat', package: 'dosfstools' },
    });
  });

  it('points to system-info for a missing tool whose package it does not know', async () => {
    assert.deepEqual(await failure(runTool('/nonexistent/bin/frobnicate', [], { what: 'frobnicate' })), {
      kind: 'tool-missing',
      message: 'cannot frobnicate: /nonexistent/bin/frobnicate is not installed; install it (see "coreforge system-info" for the Debian package)',
      details: { tool: '/nonexistent/bin/frobnicate' },
    });
  });

  it("keeps build-tool-failed for a tool that fails, with its last stderr lines in the message and its stderr tail in the details", async () => {
    const script = 'for i in $(seq 1 30); do echo "line $i" >&2; done; exit 3';
    const f = await failure(runTool('sh', ['-c', script], { what: 'copy the boot files' }));
    assert.equal(f.kind, 'build-tool-failed');
    assert.equal(f.message, 'cannot copy the boot files: sh failed: line 28; line 29; line 30');
    const lines = Array.from({ length: 20 }, (_, i) => `line ${i + 11}`);
    assert.deepEqual(f.details, { tool: 'sh', 'exit-code': 3, signal: null, stderr: lines.join('\n') });
  });

  it('says no-space when the tool ran out of room', async () => {
    const f = await failure(runTool('sh', ['-c', 'echo "mcopy: No space left on device" >&2; exit 1'], { what: 'copy the boot files' }));
    assert.equal(f.kind, 'no-space');
    assert.equal(f.message, 'cannot copy the boot files: no space left on device (mcopy: No space left on device); free space or choose another output or work directory');
    assert.equal(f.details?.tool, 'sh');
  });

  it('says aborted, not build-tool-failed, when the build is stopped under a running tool', async () => {
    const controller = new AbortController();
    const run = runTool('sleep', ['30'], { what: 'wait', signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    assert.deepEqual(await failure(run), { kind: 'aborted', message: 'cannot wait: the build was stopped', details: { tool: 'sleep' } });
  });
});
