import type { Command } from 'commander';
import type { ChangeInfo, ChangeSelect, ProgressEvent, TaskProgress } from '../../daemon/api/types.js';
import { withJson, type CliContext } from '../context.js';
import { EventStream } from '../events.js';
import { formatTime } from '../render/format.js';
import { renderProgressLine, stepText } from '../render/progress.js';
import { renderTable } from '../render/table.js';

/** `coreforge change ID` as text: the tasks, then the error if any. */
export function renderChange(change: ChangeInfo): string {
  const rows = change.tasks.map((t) => {
    const progress = t.status === 'Doing' && t.progress ? ` (${progressNote(t.progress)})` : '';
    return [t.status, formatTime(t['spawn-time']), formatTime(t['ready-time']), t.summary + progress];
  });
  let text = renderTable(['Status', 'Spawn', 'Ready', 'Summary'], rows);
  for (const t of change.tasks) {
    for (const entry of t.log) text += `${formatTime(entry.time)} ${entry.level.toUpperCase()} ${entry.message}\n`;
  }
  if (change.err) text += `\nerror: ${change.err}\n`;
  return text;
}

/** A running task's progress in a few words: "step 2/3: encrypting key", "flashing 45%", or the phase alone. */
function progressNote(p: TaskProgress): string {
  if (p.unit === 'steps') return stepText(p);
  return p.percentage === null ? p.phase : `${p.phase} ${p.percentage}%`;
}

/** What `watch` prints when a change is over, and its exit code. */
export function finalLine(change: ChangeInfo): { text: string; code: number } {
  if (change.status === 'Done') return { text: `change ${change.id} done: ${change.summary}`, code: 0 };
  return { text: `change ${change.id} ${change.status === 'Abort' ? 'aborted' : 'failed'}: ${change.err ?? change.status}`, code: 1 };
}

/**
 * Follows a change until it is ready: a redrawn bar on a terminal, one line per
 * phase elsewhere (logs, CI). Resolves with the finished change.
 */
export async function watchChange(cli: CliContext, id: string, opts: { quiet?: boolean } = {}): Promise<ChangeInfo> {
  const client = cli.client();
  const first = await client.change(id);
  if (first.ready) return first;
  const stream = new EventStream(cli.socketPath());
  const tty = cli.stderr.isTTY === true && !opts.quiet;
  let lastPhase = '';
  let drawn = false;
  const draw = (e: ProgressEvent) => {
    if (opts.quiet) return;
    if (tty) {
      cli.stderr.write(`\r\x1b[K${renderProgressLine(e, cli.stderr.columns ?? 80, e.target ? `${e.target} ` : '')}`);
      drawn = true;
    } else if (e.phase !== lastPhase) {
      cli.stderr.write(`${e.unit === 'steps' ? stepText(e) : e.phase}...\n`);
    }
    lastPhase = e.phase;
  };
  try {
    return await untilReady(cli, stream, id, draw);
  } finally {
    if (drawn) cli.stderr.write('\n');
    stream.close();
  }
}

/**
 * Feeds a change's progress to `draw` and resolves with the change once it is
 * Done, Error or Abort, including when it finished before the subscription.
 */
export function untilReady(cli: CliContext, stream: EventStream, id: string, draw: (e: ProgressEvent) => void): Promise<ChangeInfo> {
  const client = cli.client();
  return new Promise<ChangeInfo>((resolve, reject) => {
    let settled = false;
    const settle = () => {
      if (settled) return;
      settled = true;
      client.change(id).then(resolve, reject);
    };
    stream.onProgress(draw);
    stream.onStatus((e) => {
      if (e.change === id && ['Done', 'Error', 'Abort'].includes(e.status)) settle();
    });
    stream.subscribe(id).then(
      // The change may have finished between the first GET and the subscription.
      () => client.change(id).then((c) => c.ready && settle(), reject),
      reject,
    );
  });
}

export function registerChangeCommands(program: Command, cli: CliContext): void {
  withJson(
    program
      .command('changes')
      .description('list long operations (builds, flashes, key creation) and their status')
      .option('--select <which>', 'all, in-progress or ready', 'all')
      .addHelpText('after', '\nExample:\n  coreforge changes --select in-progress'),
  ).action(async (opts: { json?: boolean; select: ChangeSelect }) => {
    const changes = await cli.client().changes(opts.select);
    if (opts.json) return cli.printJson(changes);
    if (changes.length === 0) return void cli.stdout.write('No changes.\n');
    cli.stdout.write(
      renderTable(
        ['ID', 'Status', 'Spawn', 'Ready', 'Summary'],
        changes.map((c) => [c.id, c.status, formatTime(c['spawn-time']), formatTime(c['ready-time']), c.summary]),
      ),
    );
  });

  withJson(
    program
      .command('change')
      .argument('<id>', 'change id, as shown by "coreforge changes"')
      .description('show the tasks, progress and log of one change')
      .addHelpText('after', '\nExample:\n  coreforge change 17'),
  ).action(async (id: string, opts: { json?: boolean }) => {
    const change = await cli.client().change(id);
    if (opts.json) return cli.printJson(change);
    cli.stdout.write(renderChange(change));
  });

  withJson(
    program
      .command('watch')
      .argument('<id>', 'change id')
      .description('follow a change live until it finishes; exits 0 when it is Done, 1 otherwise')
      .addHelpText('after', '\nOn a terminal a progress bar is redrawn; elsewhere one line is printed per phase.\n\nExample:\n  coreforge watch 17'),
  ).action(async (id: string, opts: { json?: boolean }) => {
    const change = await watchChange(cli, id, { quiet: opts.json });
    const { text, code } = finalLine(change);
    if (opts.json) cli.printJson(change);
    else (code === 0 ? cli.stdout : cli.stderr).write(text + '\n');
    cli.setExitCode(code);
  });

  withJson(
    program
      .command('abort')
      .argument('<id>', 'change id')
      .description('stop a change that is still running')
      .addHelpText('after', '\nExample:\n  coreforge abort 17'),
  ).action(async (id: string, opts: { json?: boolean }) => {
    const change = await cli.client().abort(id);
    if (opts.json) return cli.printJson(change);
    cli.stdout.write(`change ${change.id} is ${change.status}${change.err ? `: ${change.err}` : ''}\n`);
  });
}
