// The layering rules (.dependency-cruiser.cjs) hold on the tree, and they can
// fail: the same rules run on a small tree made of one deliberate violation of
// each, plus the imports each rule allows, and report exactly the violations.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { makeTempDir } from './helpers/tmp.js';

const repo = resolve(import.meta.dirname, '..');
const depcruise = join(repo, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');
const config = join(repo, '.dependency-cruiser.cjs');

interface Violation {
  rule: string;
  from: string;
  to: string;
}

/** Runs the repository's rules on `dirs` of the tree at `cwd`; gives the count of errors and the violations. */
async function cruise(cwd: string, dirs: string[]): Promise<{ errors: number; violations: Violation[]; modules: number }> {
  const run = promisify(execFile);
  const args = [depcruise, ...dirs, '--config', config, '--output-type', 'json'];
  const { stdout } = await run(process.execPath, args, { cwd, maxBuffer: 64 << 20 });
  const result = JSON.parse(stdout) as { summary: { error: number; violations: { rule: { name: string }; from: string; to: string }[]; totalCruised: number } };
  return {
    errors: result.summary.error,
    violations: result.summary.violations.map((v) => ({ rule: v.rule.name, from: v.from, to: v.to })),
    modules: result.summary.totalCruised,
  };
}

describe('layering', () => {
  it('the tree keeps every rule: common/ neutral, console-conf and the client off the daemon, libraries under the API, express in the HTTP layers', async () => {
    const r = await cruise(repo, ['common', 'daemon', 'client', 'console-conf']);
    assert.deepEqual(r.violations, []);
    assert.equal(r.errors, 0);
    assert.ok(r.modules > 200, `only ${r.modules} modules were cruised: the rules did not see the tree`);
  });

  describe('on a tree with one violation of each rule', () => {
    let tmp: { dir: string; cleanup(): Promise<void> };
    const files: Record<string, string> = {
      'tsconfig.json': JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true } }),
      'node_modules/express/package.json': JSON.stringify({ name: 'express', main: 'index.js' }),
      'node_modules/express/index.js': 'module.exports = () => {};\n',
      'common/errors.ts': 'export class CoreforgeError extends Error {}\n',
      'common/bad.ts': "import type { SystemInfo } from '../daemon/api/types.js';\nexport type S = SystemInfo;\n",
      'daemon/api/types.ts': "import type { ToolInfo } from '../system/tools.js';\nexport type SystemInfo = { tools: ToolInfo[] };\n",
      'daemon/api/server.ts': "import express from 'express';\nimport type { SystemInfo } from './types.js';\nexport const app = express;\nexport type S = SystemInfo;\n",
      'daemon/store/server/app.ts': "import express from 'express';\nexport const store = express;\n",
      'daemon/daemon.ts': "import { app } from './api/server.js';\nexport const start = app;\n",
      'daemon/system/tools.ts': "import type { SystemInfo } from '../api/types.js';\nexport type ToolInfo = { name: string };\nexport type S = SystemInfo;\n",
      'daemon/flash/writer.ts': "import express from 'express';\nexport const w = express;\n",
      'client/main.ts': "import type { SystemInfo } from '../daemon/api/types.js';\nimport { CoreforgeError } from '../common/errors.js';\nimport { start } from '../daemon/daemon.js';\nexport type S = SystemInfo;\nexport const e = [CoreforgeError, start];\n",
      'console-conf/main.ts': "import { CoreforgeError } from '../common/errors.js';\nimport { start } from '../daemon/daemon.js';\nexport const e = [CoreforgeError, start];\n",
    };

    before(async () => {
      tmp = await makeTempDir('coreforge-layering-');
      for (const [path, text] of Object.entries(files)) {
        await mkdir(dirname(join(tmp.dir, path)), { recursive: true });
        await writeFile(join(tmp.dir, path), text);
      }
    });
    after(() => tmp.cleanup());

    it('fails, naming each violation and none of the allowed imports', async () => {
      const r = await cruise(tmp.dir, ['common', 'daemon', 'client', 'console-conf']);
      assert.equal(r.errors, 5, 'every violation is an error');
      const sort = (v: Violation[]) => [...v].sort((a, b) => `${a.rule} ${a.from}`.localeCompare(`${b.rule} ${b.from}`));
      assert.deepEqual(
        sort(r.violations),
        sort([
          { rule: 'client-imports-daemon-internals', from: 'client/main.ts', to: 'daemon/daemon.ts' },
          { rule: 'common-imports-a-component', from: 'common/bad.ts', to: 'daemon/api/types.ts' },
          { rule: 'console-conf-imports-daemon', from: 'console-conf/main.ts', to: 'daemon/daemon.ts' },
          { rule: 'express-outside-http-layers', from: 'daemon/flash/writer.ts', to: 'node_modules/express/index.js' },
          { rule: 'library-imports-api', from: 'daemon/system/tools.ts', to: 'daemon/api/types.ts' },
        ]),
      );
    });
  });
});
