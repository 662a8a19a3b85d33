import { readFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import type { BuildInfo, BuildRequest, GadgetLayoutResult } from '../../daemon/api/types.js';
import { collect, withJson, type CliContext } from '../context.js';
import { fileProblem } from '../files.js';
import { formatBytes, formatTime } from '../render/format.js';
import { renderTable } from '../render/table.js';
import { watchChange } from './changes.js';

interface BuildOptions {
  channel?: string;
  outputDir?: string;
  output?: string;
  snap: string[];
  extraSnaps: string[];
  imageSize?: string;
  sectorSize?: string;
  workdir?: string;
  resume?: boolean;
  validation?: string;
  disableConsoleConf?: boolean;
  firstBoot?: string;
  cloudInit?: string;
  revision: string[];
  thru?: string;
  json?: boolean;
}


function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot read ${what} ${path}: ${fileProblem(err)}; check the path`);
  }
}

/**
 * The artifacts of a finished build as a table: an image's size and, apart,
 * the data in it (what a flash writes; the rest is holes). Image digests still
 * being computed say so.
 */
export function renderArtifacts(build: BuildInfo): string {
  const digest = (sha256: string | null) => sha256 ?? (build['digests-pending'] ? 'computing...' : 'unknown (image changed or removed)');
  let text = renderTable(
    ['Artifact', 'Size', 'Data', 'SHA-256'],
    build.artifacts.map((a) => [a.path, formatBytes(a.size), a.data === undefined ? '-' : formatBytes(a.data), digest(a.sha256)]),
  );
  if (build['digests-pending']) text += `The images' SHA-256 is computed after the build; "coreforge builds ${build.id}" shows it when ready.\n`;
  return text;
}

/** The build request from the command line (paths made absolute: the daemon has its own working directory). */
export function buildRequest(model: string, opts: BuildOptions): BuildRequest {
  // as ubuntu-image: a value ending in .snap is a local file, anything else a store snap NAME[=CHANNEL]
  const snaps = [...opts.snap, ...opts.extraSnaps];
  const sector = opts.sectorSize === undefined ? 512 : Number(opts.sectorSize);
  if (sector !== 512 && sector !== 4096) throw new Error(`cannot use --sector-size ${opts.sectorSize}: use 512 or 4096`);
  if (opts.validation !== undefined && opts.validation !== 'ignore' && opts.validation !== 'enforce') {
    throw new Error(`cannot use --validation ${opts.validation}: use ignore or enforce`);
  }
  if (opts.output !== undefined && opts.outputDir !== undefined) {
    throw new Error(`cannot use -o ${opts.output} with -O ${opts.outputDir}: -o FILE names the image of a single-volume gadget and puts the other outputs beside it, -O DIR is the output directory; keep one of them`);
  }
  // ubuntu-image's -o FILE: the image file of a single-volume gadget, its bmap and the reports beside it
  const output = opts.output === undefined ? undefined : resolve(opts.output);
  return {
    model: readText(model, 'model'),
    'model-source': basename(model),
    snaps: snaps.map((s) => (s.endsWith('.snap') ? resolve(s) : s)),
    ...(opts.channel !== undefined ? { channel: opts.channel } : {}),
    'output-dir': output !== undefined ? dirname(output) : resolve(opts.outputDir ?? '.'),
    ...(output !== undefined ? { 'image-name': basename(output) } : {}),
    ...(opts.imageSize !== undefined ? { 'image-size': opts.imageSize } : {}),
    'sector-size': sector,
    ...(opts.workdir !== undefined ? { workdir: resolve(opts.workdir) } : {}),
    ...(opts.resume ? { resume: true } : {}),
    ...(opts.validation !== undefined ? { validation: opts.validation as 'ignore' | 'enforce' } : {}),
    ...(opts.disableConsoleConf ? { 'disable-console-conf': true } : {}),
    ...(opts.firstBoot !== undefined ? { 'first-boot': readText(opts.firstBoot, 'first-boot config') } : {}),
    ...(opts.cloudInit !== undefined ? { 'cloud-init': readText(opts.cloudInit, 'cloud-init config') } : {}),
    ...(opts.revision.length > 0 ? { revision: opts.revision } : {}),
    ...(opts.thru !== undefined ? { thru: opts.thru } : {}),
  };
}

function addBuildOptions(cmd: Command): Command {
  return cmd
    .argument('<model>', 'signed model assertion file')
    .option('-c, --channel <channel>', 'channel for the model snaps (a risk like beta keeps pinned tracks: 18-pi3/beta)')
    .option('-O, --output-dir <dir>', 'where VOLUME.img, VOLUME.img.bmap, manifests and build.json go (default: the current directory)')
    .option('-o, --output <file>', 'the image file, for a single-volume gadget (ubuntu-image\'s -o): FILE, FILE.bmap, and the manifests and build.json beside it')
    .option('--snap <path|name[=channel]>', 'local .snap file (a .assert beside it is used when present) or store snap NAME[=CHANNEL] to seed (repeatable)', collect, [])
    .option('--extra-snaps <path|name>', 'deprecated alias of --snap', collect, [])
    .option('-i, --image-size <size>', 'image size: SIZE or VOLUME:SIZE,... (4G, 512M, bytes); grown with a warning when too small')
    .option('--sector-size <bytes>', 'sector size of the images: 512 or 4096', '512')
    .option('-w, --workdir <dir>', 'work directory (kept; needed for --resume)')
    .option('--resume', 'continue the build saved in --workdir after its last finished step')
    .option('--validation <mode>', 'validation sets: ignore or enforce', 'ignore')
    .option('--disable-console-conf', 'mark console-conf as done in the image (UC16/18)')
    .option('--first-boot <file>', 'console-conf first-boot config, to run it unattended (UC16/18: writable defaults; UC20+: ubuntu-seed)')
    .option('--cloud-init <file>', 'cloud-init user-data for the image (UC16/18)')
    .option('--revision <name:rev>', 'pin the store revision of a snap (repeatable)', collect, [])
    .option('--thru <step>', 'stop after this build step (see "coreforge change ID" for the steps)')
    .addHelpText(
      'after',
      '\nExamples:\n  coreforge build -c beta -O pi3-test --snap pi_18-1_armhf.snap --snap pi-kernel.snap --snap core18.snap --snap snapd.snap pi3.model\n  coreforge build -O out -w work --resume --snap ... pi3.model\n',
    );
}

async function runBuild(cli: CliContext, model: string, opts: BuildOptions): Promise<void> {
  if (opts.extraSnaps.length > 0) cli.stderr.write('warning: --extra-snaps is deprecated; use --snap\n');
  const client = cli.client();
  const id = await client.startBuild(buildRequest(model, opts));
  if (!opts.json) cli.stderr.write(`build ${id} started\n`);
  const change = await watchChange(cli, id, { quiet: opts.json });
  const build = await client.build(id);
  if (opts.json) {
    cli.printJson(build);
  } else if (change.status === 'Done') {
    for (const w of build.warnings) cli.stderr.write(`${w}\n`);
    cli.stdout.write(`build ${id} done: model "${build.model}" in ${build['output-dir']}\n`);
    cli.stdout.write(renderArtifacts(build));
  } else {
    cli.stderr.write(`build ${id} ${change.status === 'Abort' ? 'aborted' : 'failed'}: ${change.err ?? change.status}\n`);
  }
  cli.setExitCode(change.status === 'Done' ? 0 : 1);
}

/** The layout of `coreforge gadget validate` as text. */
export function renderGadgetLayout(result: GadgetLayoutResult): string {
  let text = `rules: ${result.rules}${result['content-checked'] ? ', content checked' : ''}\n`;
  for (const v of result.volumes) {
    const partial = v.partial.length > 0 ? `, partial: ${v.partial.join(', ')}` : '';
    const size = v.size > 0 ? `size ${v.size} (${formatBytes(v.size)})` : 'no image';
    text += `\nvolume ${v.name}: schema ${v.schema || '-'}${partial}, bootloader ${v.bootloader || '-'}, ${size}\n`;
    text += renderTable(
      ['Name', 'Role', 'Type', 'Filesystem', 'Offset', 'Size'],
      v.structures.map((s) => [
        s.name || s.label || '-',
        s.role || '-',
        s.type,
        s.filesystem || '-',
        s.offset === null ? 'at install' : String(s.offset),
        s.size === 0 ? (v.size === 0 ? '-' : 'at build') : String(s.size) + (s['in-image'] ? '' : ' (made at install)'),
      ]),
    );
  }
  for (const w of result.warnings) text += `\n${w}`;
  return result.warnings.length > 0 ? `${text}\n` : text;
}

export function registerBuildCommands(program: Command, cli: CliContext): void {
  for (const [name, description] of [
    ['build', 'build the image volumes of a signed model from the store and local snap files (a change with progress)'],
    ['snap', 'alias of "build", for ubuntu-image habits'],
  ] as const) {
    withJson(addBuildOptions(program.command(name).description(description))).action((model: string, opts: BuildOptions) => runBuild(cli, model, opts));
  }

  withJson(
    program
      .command('builds')
      .argument('[id]', 'build id, to show one build with its artifacts')
      .option('--wait', "with an id: wait until the images' SHA-256, computed after the build, are known")
      .description('list image builds, or show one with its artifacts, sizes and SHA-256 digests')
      .addHelpText('after', '\nExamples:\n  coreforge builds\n  coreforge builds 12\n  coreforge builds 12 --wait --json'),
  ).action(async (id: string | undefined, opts: { json?: boolean; wait?: boolean }) => {
    const client = cli.client();
    if (id !== undefined) {
      let build = await client.build(id);
      while (opts.wait && build['digests-pending']) {
        await new Promise((r) => setTimeout(r, 200));
        build = await client.build(id);
      }
      if (opts.json) return cli.printJson(build);
      cli.stdout.write(`build ${build.id}: ${build.status}, model "${build.model}" of ${build.brand}, output ${build['output-dir']}\n`);
      if (build.err) cli.stdout.write(`error: ${build.err}\n`);
      cli.stdout.write(renderArtifacts(build));
      for (const w of build.warnings) cli.stdout.write(`${w}\n`);
      return;
    }
    const builds = await client.builds();
    if (opts.json) return cli.printJson(builds);
    if (builds.length === 0) return void cli.stdout.write('No builds.\n');
    cli.stdout.write(
      renderTable(
        ['ID', 'Status', 'Model', 'Spawn', 'Ready', 'Output'],
        builds.map((b) => [b.id, b.status, b.model, formatTime(b['spawn-time']), formatTime(b['ready-time']), b['output-dir']]),
      ),
    );
  });

  const gadget = program
    .command('gadget')
    .description('work with gadget snaps')
    .addHelpText('after', '\nExample:\n  coreforge gadget validate pi_18-1_armhf.snap --model pi3.model');
  withJson(
    gadget
      .command('validate')
      .argument('<path>', 'gadget snap, unpacked gadget directory, or gadget.yaml')
      .option('--model <file>', 'model assertion whose generation (UC16/18, UC20+) sets the rules; its signature is not checked')
      .option('--sector-size <bytes>', 'sector size for the layout: 512 or 4096', '512')
      .description('validate a gadget with the rules the build uses and print its computed layout')
      .addHelpText('after', '\nExamples:\n  coreforge gadget validate pc_20-0.4_amd64.snap --model pc.model\n  coreforge gadget validate ./meta/gadget.yaml --json'),
  ).action(async (path: string, opts: { model?: string; sectorSize: string; json?: boolean }) => {
    const result = await cli.client().validateGadget({
      path: resolve(path),
      ...(opts.model !== undefined ? { model: readText(opts.model, 'model') } : {}),
      'sector-size': Number(opts.sectorSize) as 512 | 4096,
    });
    if (opts.json) return cli.printJson(result);
    cli.stdout.write(renderGadgetLayout(result));
  });
  gadget.commands.forEach((c) => c.exitOverride());
}
