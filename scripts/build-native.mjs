#!/usr/bin/env node
// Compiles coreforged's native addon (daemon/caller/native/caller.c: peer
// credentials and file calls made with a caller's rights). It is plain C
// against Node-API, so a C compiler and Node's headers are all it needs; no
// node-gyp, no download. Skips the compile when the addon is newer than its source.
import { existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = resolve(import.meta.dirname, '..');
const source = join(root, 'daemon/caller/native/caller.c');
const output = join(root, 'daemon/caller/native/build/caller.node');

const headerDirs = [
  join(process.config.variables.node_prefix ?? '/usr', 'include/node'),
  process.env.npm_config_nodedir ? join(process.env.npm_config_nodedir, 'include/node') : '',
  '/usr/include/node',
  '/usr/local/include/node',
].filter((d) => d && existsSync(join(d, 'node_api.h')));

if (existsSync(output) && statSync(output).mtimeMs >= statSync(source).mtimeMs && !process.argv.includes('--force')) process.exit(0);
if (headerDirs.length === 0) {
  console.error('build-native: cannot find node_api.h (Node\'s headers); install the Node.js package that ships include/node, or set npm_config_nodedir');
  process.exit(1);
}
mkdirSync(dirname(output), { recursive: true });
const temp = `${output}.${process.pid}.tmp`;
const cc = process.env.CC ?? 'cc';
const r = spawnSync(cc, ['-shared', '-fPIC', '-O2', '-Wall', '-Wextra', '-Werror', `-I${headerDirs[0]}`, '-o', temp, source], { stdio: 'inherit' });
if (r.error || r.status !== 0) {
  console.error(`build-native: ${cc} failed${r.error ? `: ${r.error.message}` : ''}; install a C compiler (Debian package gcc or g++ pulls it in)`);
  process.exit(1);
}
renameSync(temp, output);
console.log(`build-native: ${output.slice(root.length + 1)}`);
