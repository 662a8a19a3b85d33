#!/usr/bin/env node
// Copies the data files that live beside the sources (trusted root assertions,
// unit templates...) into dist/, which tsc alone fills only with compiled code.
import { copyFileSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';

const roots = ['daemon', 'client', 'console-conf'];
// Sources (TypeScript, the addon's C) and docs stay behind; the built addon (.node) is copied.
const isSource = (name) => /\.(ts|tsx|mts|cts|c|tmp)$/.test(name) || name.endsWith('.md');
let copied = 0;

function walk(dir) {
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) walk(path);
    else if (!isSource(entry)) {
      const target = join('dist', path);
      mkdirSync(dirname(target), { recursive: true });
      copyFileSync(path, target);
      copied++;
    }
  }
}

for (const root of roots) {
  try {
    walk(root);
  } catch (err) {
    if (err.code !== 'ENOENT') throw err;
  }
}
console.log(`copy-assets: ${copied} data files copied into dist/`);
