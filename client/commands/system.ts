import type { Command } from 'commander';
import type { ToolInfo } from '../../daemon/api/types.js';
import { packageVersion } from '../../common/version.js';
import { withJson, type CliContext } from '../context.js';
import { DaemonUnreachableError } from '../transport.js';

/** The doctor checklist as text: one line per tool, and the apt-get line that fixes what is missing. */
export function renderDoctor(tools: ToolInfo[]): { text: string; ok: boolean } {
  const lines: string[] = [];
  for (const t of tools) {
    const mark = t.present ? 'ok  ' : t.required ? 'FAIL' : 'warn';
    const what = t.present ? `${t.version ?? 'version unknown'} (${t.path})` : `missing: install the Debian package ${t.package}`;
    lines.push(`${mark}  ${t.name.padEnd(11)} ${what}${t.required ? '' : ' [optional]'}  - ${t.purpose}`);
  }
  const missingRequired = tools.filter((t) => t.required && !t.present);
  const missingAll = tools.filter((t) => !t.present);
  if (missingAll.length > 0) {
    const packages = [...new Set(missingAll.map((t) => t.package))].join(' ');
    lines.push('', `To install what is missing: sudo apt-get install ${packages}`);
  }
  lines.push('', missingRequired.length === 0 ? 'All required tools are present.' : `${missingRequired.length} required tool(s) missing.`);
  return { text: lines.join('\n') + '\n', ok: missingRequired.length === 0 };
}

export function registerSystemCommands(program: Command, cli: CliContext): void {
  withJson(
    program
      .command('version')
      .description('show the versions of coreforge and of the coreforged it talks to')
      .addHelpText('after', '\nExample:\n  coreforge version --json'),
  ).action(async (opts: { json?: boolean }) => {
    let daemon: string | null = null;
    let unreachable: string | undefined;
    try {
      daemon = (await cli.client().systemInfo()).version;
    } catch (err) {
      if (!(err instanceof DaemonUnreachableError)) throw err;
      unreachable = err.message;
    }
    if (opts.json) return cli.printJson({ client: packageVersion(), daemon, ...(unreachable ? { error: unreachable } : {}) });
    cli.stdout.write(`coreforge   ${packageVersion()}\ncoreforged  ${daemon ?? 'unavailable'}\n`);
    if (unreachable) {
      cli.stderr.write(`${unreachable}\n`);
      cli.setExitCode(2);
    }
  });

  withJson(
    program
      .command('doctor')
      .description('check that coreforged runs and that the tools it needs are installed')
      .addHelpText('after', '\nExits 1 when a required tool is missing, 2 when coreforged cannot be reached.\n\nExample:\n  coreforge doctor'),
  ).action(async (opts: { json?: boolean }) => {
    const info = await cli.client().systemInfo();
    const { text, ok } = renderDoctor(info.tools);
    if (opts.json) cli.printJson({ ok, ...info });
    else {
      cli.stdout.write(
        `coreforged ${info.version} on ${info.socket}${info['socket-activated'] ? ' (socket-activated)' : ''}, state in ${info['state-dir']}, up ${info['uptime-seconds']}s\n\n`,
      );
      cli.stdout.write(text);
    }
    if (!ok) cli.setExitCode(1);
  });
}
