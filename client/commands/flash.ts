import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import type { ChangeInfo, DriveInfo, FlashResult, ProgressEvent } from '../../daemon/api/types.js';
import { withJson, type CliContext } from '../context.js';
import { untilReady } from './changes.js';
import { EventStream } from '../events.js';
import { formatBytes } from '../render/format.js';
import { renderProgressLine } from '../render/progress.js';
import { renderTable } from '../render/table.js';

/** Verdicts the daemon refuses to write (a system drive only unless allowed by name). */
const refusedVerdicts = new Set(['system', 'source', 'read-only', 'too-small']);

const fixes: Record<string, string> = {
  system: 'pick another drive; if you really mean to erase this one, name it with --allow-system-drive',
  source: 'copy the image to another drive first, or flash another drive',
  'read-only': 'slide the write-protect switch off (or attach the loop device read-write) and try again',
  'too-small': 'use a bigger drive',
};

function modelOf(d: DriveInfo): string {
  const model = [d.vendor, d.model].map((s) => s.trim()).filter(Boolean).join(' ');
  if (model) return model;
  return d.loop && d['backing-file'] ? `loop: ${d['backing-file']}` : '-';
}

/** `coreforge drives` as a table. */
export function renderDrivesTable(drives: DriveInfo[]): string {
  return renderTable(
    ['Device', 'Size', 'Model', 'Bus', 'Removable', 'Verdict', 'Reasons'],
    drives.map((d) => [d.path, formatBytes(d.size), modelOf(d), d.bus || '-', d.removable ? 'yes' : 'no', d.verdict, d.reasons.join('; ') || '-']),
  );
}

/**
 * What the user is about to lose: each drive with its current partitions and
 * what is mounted where, which the flash unmounts before writing.
 */
export function renderErasePlan(drives: DriveInfo[], image: string): string {
  const lines = [`Flashing ${image} will erase everything on:`];
  const mounted: string[] = [];
  for (const d of drives) {
    lines.push(`  ${d.path}  ${formatBytes(d.size)}  ${modelOf(d)}${d.bus ? ` (${d.bus})` : ''}${d.verdict === 'system' ? '  SYSTEM DRIVE' : ''}`);
    if (d.partitions.length === 0) lines.push('    no partitions');
    for (const p of d.partitions) {
      const what = [p['fs-type'], p.label && `"${p.label}"`, p.mountpoints.length > 0 && `mounted on ${p.mountpoints.join(', ')}`].filter(Boolean).join('  ');
      lines.push(`    ${p.path}  ${formatBytes(p.size)}${what ? `  ${what}` : ''}`);
      mounted.push(...p.mountpoints.map((m) => `${m} (${p.path})`));
    }
    const whole = d.mountpoints.filter((m) => !d.partitions.some((p) => p.mountpoints.includes(m)));
    if (whole.length > 0) lines.push(`    the whole drive is mounted on ${whole.join(', ')}`);
    mounted.push(...whole.map((m) => `${m} (${d.path})`));
    // the mount reasons are the lines above; the other reasons are notes
    for (const r of d.reasons) if (!d.mountpoints.some((m) => r === `mounted on ${m}`)) lines.push(`    note: ${r}`);
  }
  if (mounted.length > 0) lines.push(`Mounted now, and unmounted before anything is written: ${mounted.join(', ')}`);
  return lines.join('\n') + '\n';
}

function rate(bytes: number, seconds: number): string {
  return seconds > 0 ? `${formatBytes(bytes / seconds)}/s` : '-';
}

/**
 * The summary after a flash: the image's size and how much of it is data
 * (what a bmap lets the flash write), then per drive the bytes actually
 * written and their rate, whether it verified, the time with verification,
 * and what was unmounted first. Speeds are bytes written per second, never
 * the image size over the time: skipped holes are not speed.
 */
export function renderFlashSummary(result: FlashResult): string {
  const rows = result.targets.map((t) => [
    t.path,
    t.ok ? 'ok' : 'FAILED',
    `${formatBytes(t['bytes-written'])} in ${t['write-seconds'].toFixed(1)}s (${rate(t['bytes-written'], t['write-seconds'])})`,
    t.verified ? (t.ok ? 'verified' : 'verify failed') : 'not verified',
    `${t.seconds.toFixed(1)}s`,
  ]);
  const data = result.bmap ? `${formatBytes(result['mapped-bytes'])} of data to write (bmap ${result.bmap})` : 'no bmap: every byte is written';
  let text = `${result.image}: ${formatBytes(result['image-size'])} image, ${data}\n` + renderTable(['Drive', 'Result', 'Written', 'Verify', 'Total'], rows);
  for (const t of result.targets) for (const m of t.unmounted ?? []) text += `${t.path}: unmounted ${m.mountpoint} (${m.device}) before writing\n`;
  return text;
}

/** Progress of every drive, one line each, in the order the drives were named. */
export function renderProgressBlock(order: string[], latest: Map<string, ProgressEvent>, width: number): string[] {
  const label = Math.max(...order.map((t) => t.length)) + 2;
  return order.map((t) => {
    const e = latest.get(t);
    return e ? renderProgressLine(e, width, t.padEnd(label)) : `${t.padEnd(label)}waiting`.slice(0, Math.max(1, width - 1));
  });
}

function realOrAbsolute(path: string): string {
  const abs = resolve(path);
  try {
    return realpathSync(abs);
  } catch {
    return abs;
  }
}

/** Follows a flash change: one redrawn line per drive on a terminal, one line per drive and phase elsewhere. */
async function followFlash(cli: CliContext, id: string, order: string[], quiet: boolean): Promise<ChangeInfo> {
  const client = cli.client();
  const stream = new EventStream(cli.socketPath());
  const tty = cli.stderr.isTTY === true && !quiet;
  const latest = new Map<string, ProgressEvent>();
  const phases = new Map<string, string>();
  let drawn = 0;
  const draw = (e: ProgressEvent) => {
    if (quiet || e.change !== id) return;
    const target = e.target ?? '';
    if (!order.includes(target)) order.push(target);
    latest.set(target, e);
    if (tty) {
      const lines = renderProgressBlock(order, latest, cli.stderr.columns ?? 80);
      cli.stderr.write((drawn > 0 ? `\x1b[${drawn}A` : '') + lines.map((l) => `\r\x1b[K${l}\n`).join(''));
      drawn = lines.length;
    } else if (phases.get(target) !== e.phase) {
      phases.set(target, e.phase);
      cli.stderr.write(`${target ? `${target}: ` : ''}${e.phase}...\n`);
    }
  };
  const abortOnInterrupt = () => {
    cli.stderr.write(`\ninterrupted: aborting change ${id}...\n`);
    client.abort(id).catch(() => {});
  };
  process.once('SIGINT', abortOnInterrupt);
  try {
    return await untilReady(cli, stream, id, draw);
  } finally {
    process.off('SIGINT', abortOnInterrupt);
    stream.close();
  }
}

/** Asks on the terminal; true only for an explicit yes (and the typed path of every system drive). */
async function confirm(cli: CliContext, system: DriveInfo[], count: number): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: cli.stderr, terminal: true });
  try {
    for (const d of system) {
      const typed = await rl.question(`${d.path} is a system drive (${d.reasons.join('; ')}). Type its path to erase it anyway: `);
      if (typed.trim() !== d.path) return false;
    }
    const answer = await rl.question(`Erase ${count === 1 ? 'this drive' : `these ${count} drives`}? [y/N] `);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

interface FlashOpts {
  bmap?: string;
  verify: boolean;
  yes?: boolean;
  allowSystemDrive: string[];
  includeLoop?: boolean;
  force?: boolean;
  json?: boolean;
}

export function registerFlashCommands(program: Command, cli: CliContext): void {
  withJson(
    program
      .command('drives')
      .description('list the drives an image can be flashed to, with a safety verdict for each')
      .option('--include-loop', 'also list loop devices (hidden by default)')
      .addHelpText(
        'after',
        '\nVerdicts: ok; mounted (warning: its filesystems are unmounted before writing); large (warning: over 128 GB);\nsystem, source, read-only and too-small are refused.\n\nExample:\n  coreforge drives --include-loop',
      ),
  ).action(async (opts: { includeLoop?: boolean; json?: boolean }) => {
    const drives = await cli.client().drives({ includeLoop: opts.includeLoop });
    if (opts.json) return cli.printJson(drives);
    if (drives.length === 0) return void cli.stdout.write(`No drives found${opts.includeLoop ? '' : ' (loop devices are hidden; --include-loop shows them)'}.\n`);
    cli.stdout.write(renderDrivesTable(drives));
  });

  withJson(
    program
      .command('flash')
      .argument('<image>', 'the image: .img, or .img.gz, .img.xz, .img.zst')
      .argument('<device...>', 'whole drives to write, as listed by "coreforge drives"')
      .description('write an image to one or more SD cards or USB sticks, then read them back to verify')
      .option('--bmap <file>', 'block map to use (default: IMAGE.bmap beside the image, when present)')
      .option('--no-verify', 'skip reading the drives back')
      .option('--yes', 'erase the drives without asking')
      .option('--allow-system-drive <device>', 'allow erasing this system drive (repeatable; its path must still be typed unless --yes)', (v: string, all: string[]) => [...all, v], [] as string[])
      .option('--include-loop', 'allow loop devices as targets')
      .option('--force', 'write an image that starts with no partition table and no known filesystem (refused otherwise: a model or a text file is no image)')
      .addHelpText(
        'after',
        '\nWithout --yes the drives, their partitions and what is mounted where are shown, and you are asked to confirm on the terminal;\nmounted filesystems of the drives are unmounted before writing.\nExits 1 when any drive failed; the others are still written and reported.\n\nExample:\n  coreforge flash pi3.img /dev/sdb /dev/sdc',
      ),
  ).action(async (imageArg: string, devices: string[], opts: FlashOpts) => {
    const client = cli.client();
    const image = resolve(imageArg);
    const bmap = opts.bmap ? resolve(opts.bmap) : undefined;
    const allowed = opts.allowSystemDrive.map(realOrAbsolute);
    const paths = devices.map(realOrAbsolute);
    const drives = await client.drives({ includeLoop: opts.includeLoop, image, ...(bmap ? { bmap } : {}), force: opts.force === true });
    const chosen = paths.map((p) => drives.find((d) => d.path === p));
    const listed = chosen.filter((d): d is DriveInfo => d !== undefined);

    for (const d of listed) {
      if (!refusedVerdicts.has(d.verdict) || (d.verdict === 'system' && allowed.includes(d.path))) continue;
      cli.stderr.write(`error: cannot flash ${d.path}: ${d.reasons.join('; ')}; ${fixes[d.verdict]}\n`);
      return cli.setExitCode(1);
    }
    // A drive missing from the listing is sent with size 0: the daemon refuses it (and says why) before writing anything.
    const allListed = listed.length === paths.length;
    if (allListed && !opts.yes) {
      const names = listed.map((d) => `${d.path} (${formatBytes(d.size)} ${modelOf(d)})`).join(', ');
      if (process.stdin.isTTY !== true) {
        cli.stderr.write(`error: cannot flash without confirmation: standard input is not a terminal; pass --yes to erase ${names} without asking\n`);
        return cli.setExitCode(1);
      }
      cli.stderr.write(renderErasePlan(listed, image));
      if (!(await confirm(cli, listed.filter((d) => d.verdict === 'system'), listed.length))) {
        cli.stderr.write('nothing was written\n');
        return cli.setExitCode(1);
      }
    }

    const id = await client.flash({
      image,
      ...(bmap ? { bmap } : {}),
      targets: paths.map((path, i) => ({ path, size: chosen[i]?.size ?? 0, ...(chosen[i]?.serial ? { serial: chosen[i]!.serial } : {}) })),
      verify: opts.verify,
      'allow-system-drive': allowed,
      'include-loop': opts.includeLoop === true,
      ...(opts.force ? { force: true } : {}),
    });
    const change = await followFlash(cli, id, [...paths], opts.json === true);
    const result = change.result as FlashResult | undefined;
    if (opts.json) cli.printJson({ change: change.id, status: change.status, ...(change.err ? { err: change.err, 'err-kind': change['err-kind'], ...(change['err-details'] ? { 'err-details': change['err-details'] } : {}) } : {}), result: result ?? null });
    else if (result?.targets) {
      cli.stdout.write(renderFlashSummary(result));
      for (const t of result.targets) if (t.error) cli.stderr.write(`error: ${t.error.message}\n`);
    } else if (change.status === 'Abort') cli.stderr.write(`flash aborted (change ${change.id}); the drives hold no valid partition table, flash them again\n`);
    else if (change.status !== 'Done') cli.stderr.write(`error: ${change.err ?? change.status}\n`);
    cli.setExitCode(change.status === 'Done' ? 0 : 1);
  });
}
