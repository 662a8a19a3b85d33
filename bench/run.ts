/**
 * bench/run: runs the benchmarks one after another, each in its own process
 * (they time processes, drop caches and attach loop devices: running two at
 * once would measure each other). `npm run bench` runs them all;
 * `npm run bench -- flash store` runs the named ones, in that order.
 * Arguments after `--` that start with `-` go to every bench named
 * (e.g. `npm run bench -- flash -- --runs 5`).
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const here = import.meta.dirname;
const all = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts')
  .map((f) => f.slice(0, -'.ts'.length))
  .sort();

/** Splits the command line into bench names and the options passed on to each (`--runs 5`: an option and its value). */
function parse(argv: string[]): { names: string[]; passed: string[] } {
  const names: string[] = [];
  const passed: string[] = [];
  const args = argv.filter((a) => a !== '--');
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith('-')) {
      names.push(a);
      continue;
    }
    passed.push(a);
    const next = args[i + 1];
    if (!a.includes('=') && next !== undefined && !next.startsWith('-') && !all.includes(next)) passed.push(args[++i]!);
  }
  return { names, passed };
}

const { names, passed } = parse(process.argv.slice(2));
const unknown = names.filter((n) => !all.includes(n));
if (unknown.length > 0) {
  process.stderr.write(`cannot run bench ${unknown.map((n) => JSON.stringify(n)).join(', ')}: there is no such file in bench/; the benches are: ${all.join(', ')}\n`);
  process.exit(2);
}
const failed: string[] = [];
for (const name of names.length > 0 ? names : all) {
  process.stdout.write(`\n=== bench/${name} ===\n`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(here, `${name}.ts`), ...passed], { stdio: 'inherit' });
  if (r.status !== 0) failed.push(`${name} (${r.signal ?? `exit ${r.status}`})`);
}
if (failed.length > 0) {
  process.stderr.write(`\nbenches that failed: ${failed.join(', ')}\n`);
  process.exit(1);
}
