import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../helpers/daemon.js';
import { makeTempDir } from '../helpers/tmp.js';

describe('bash completion', () => {
  let script: string;
  let cleanup: () => Promise<void>;
  before(async () => {
    const tmp = await makeTempDir();
    cleanup = tmp.cleanup;
    const r = await runCli(['completion', 'bash']);
    assert.equal(r.code, 0, r.stderr);
    script = join(tmp.dir, 'coreforge.bash');
    writeFileSync(script, r.stdout);
  });
  after(() => cleanup());

  /** What bash offers after typing `line` (the last word is the one being completed). */
  const complete = (line: string): string[] => {
    const words = line.split(' ');
    const out = execFileSync(
      'bash',
      ['-c', `source "$1"; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _coreforge; printf '%s\\n' "\${COMPREPLY[@]}"`, 'x', script],
      { encoding: 'utf8' },
    );
    return out.split('\n').filter(Boolean).sort();
  };

  it('offers the commands at the top level', () => {
    const offered = complete('coreforge ch');
    assert.deepEqual(offered, ['change', 'changes']);
  });

  it('offers the flags of the command being typed', () => {
    assert.deepEqual(complete('coreforge changes --'), ['--help', '--json', '--select']);
  });

  it('offers file names for arguments', () => {
    assert.ok(complete('coreforge watch /e').includes('/etc'));
  });

  it('refuses a shell it cannot serve', async () => {
    const r = await runCli(['completion', 'fish']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'error: cannot print completion for "fish": only bash is supported; run "coreforge completion bash"\n');
  });
});
