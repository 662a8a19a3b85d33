#!/usr/bin/env node
// Lists what console-conf needs at run time, for the sample base: every file
// of dist/ that dist/console-conf/main.js reaches through its relative
// imports (console-conf shares a few modules with the daemon), then the npm
// packages those files import, each with the files of its package.json
// "files"/exports that node loads. One path per line, relative to the repo.
//
// usage: node sample-os/base/console-conf-files.mjs [REPO]
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';

const repo = resolve(process.argv[2] ?? '.');
const entry = join(repo, 'dist/console-conf/main.js');
if (!existsSync(entry)) {
  process.stderr.write(`console-conf-files: ${entry} is missing; run npm run build first\n`);
  process.exit(1);
}

const importRe = /(?:^|[\s;})])(?:import|export)\s*(?:[^'"`;]*?\sfrom\s*)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;
const files = new Set();
const packages = new Set();
const todo = [entry];
while (todo.length > 0) {
  const file = todo.pop();
  if (files.has(file)) continue;
  files.add(file);
  const text = readFileSync(file, 'utf8');
  for (const m of text.matchAll(importRe)) {
    const spec = m[1] ?? m[2];
    if (spec.startsWith('.')) todo.push(resolve(dirname(file), spec));
    else if (spec.startsWith('node:') || builtinModules.includes(spec)) continue;
    else packages.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]);
  }
}

const out = [...files].map((f) => relative(repo, f));
function walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (!name.endsWith('.map') && !name.endsWith('.d.ts') && !name.endsWith('.ts')) out.push(relative(repo, p));
  }
}
for (const pkg of packages) {
  const dir = join(repo, 'node_modules', pkg);
  const meta = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  if (meta.dependencies && Object.keys(meta.dependencies).length > 0) {
    process.stderr.write(`console-conf-files: ${pkg} has dependencies of its own (${Object.keys(meta.dependencies).join(', ')}); list them here\n`);
    process.exit(1);
  }
  out.push(relative(repo, join(dir, 'package.json')));
  for (const name of ['LICENSE', 'LICENSE.md', 'LICENSE.txt']) if (existsSync(join(dir, name))) out.push(relative(repo, join(dir, name)));
  // node's "node"/"import"/"require" conditions of yaml-like packages point into dist/
  for (const sub of ['dist', 'lib']) if (existsSync(join(dir, sub))) walk(join(dir, sub));
  for (const name of readdirSync(dir)) if (/\.(m?js|cjs)$/.test(name)) out.push(relative(repo, join(dir, name)));
}
process.stdout.write(out.sort().join('\n') + '\n');
