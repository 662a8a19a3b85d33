import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { AssertionVerdict } from '../../daemon/api/types.js';
import { withJson, type CliContext } from '../context.js';
import { readPassphrase } from '../passphrase.js';
import { ApiCallError } from '../transport.js';
import { keysClient, withPassphraseFile } from './keys.js';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

async function readInput(file: string | undefined, what: string): Promise<string> {
  try {
    return file === undefined || file === '-' ? await readStdin() : await readFile(file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read ${what}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? `open ${file}: no such file or directory` : (err as Error).message}`);
  }
}

/** One line per assertion: file, type, primary key, verdict and reason. */
export function renderVerdicts(file: string, verdicts: AssertionVerdict[]): string {
  return verdicts
    .map((v) => `${file}: ${v.type} ${v['primary-key'].join('/')}: ${v.valid ? 'valid' : 'INVALID'}: ${v.reason}${v.fix ? `; ${v.fix}` : ''}\n`)
    .join('');
}

export function registerAssertionCommands(program: Command, cli: CliContext, env: NodeJS.ProcessEnv): void {
  withPassphraseFile(
    program
      .command('sign')
      .argument('[file]', 'the JSON statement to sign; "-" or nothing reads stdin')
      .option('-k, --key-name <name>', 'name of the key to sign with', 'default')
      .option('--update-timestamp', 'set the "timestamp" header to the current time')
      .option('--chain', 'append the signing account-key and its account (from the assertion database)')
      .description('sign a JSON assertion statement and print the assertion, like snap sign')
      .addHelpText(
        'after',
        `\nThe passphrase is prompted on the terminal (/dev/tty) without echo, or read from\n--passphrase-file FILE or COREFORGE_PASSPHRASE.\n\nExample:\n  coreforge sign -k my-model-key model.json > my.model`,
      ),
  ).action(async (file: string | undefined, opts: { keyName: string; updateTimestamp?: boolean; chain?: boolean; passphraseFile?: string }) => {
    const statement = await readInput(file, 'assertion input');
    const passphrase = await readPassphrase({ key: opts.keyName, file: opts.passphraseFile, env });
    const result = await keysClient(cli).sign({
      key: opts.keyName,
      passphrase,
      statement,
      'update-timestamp': opts.updateTimestamp === true,
      chain: opts.chain === true,
    });
    if (result.warning && !opts.chain) cli.stderr.write(`${result.warning}\n`);
    cli.stdout.write(result.assertion);
  });

  withJson(
    program
      .command('verify')
      .argument('<files...>', 'assertion files (one assertion or a stream each)')
      .option('--trusted <file>', 'account-key (and account) assertions to trust as roots for this check, e.g. your own self-signed key')
      .description('check the signatures and trust chains of assertions; exits 1 if any fails')
      .addHelpText(
        'after',
        `\nRoots are Canonical's root key, the roots added with "coreforge ack --trusted",\nand those in --trusted FILE. Keys and accounts are looked up in the files\nthemselves (all of them), then in the assertion database.\n\nExamples:\n  coreforge verify my.model\n  coreforge verify my.model --trusted my-root.account-key`,
      ),
  ).action(async (files: string[], opts: { trusted?: string; json?: boolean }) => {
    const trusted = opts.trusted === undefined ? undefined : await readInput(opts.trusted, `trusted assertions ${opts.trusted}`);
    const keys = keysClient(cli);
    const texts = new Map<string, string>();
    for (const file of files) texts.set(file, await readInput(file, file).catch(() => ''));
    const all: { file: string; verdicts: AssertionVerdict[]; error?: string }[] = [];
    let failed = false;
    for (const file of files) {
      try {
        const others = files.filter((f) => f !== file).map((f) => texts.get(f)!);
        const verdicts = await keys.verify(await readInput(file, file), trusted, others);
        if (verdicts.some((v) => !v.valid)) failed = true;
        all.push({ file, verdicts });
        if (!opts.json) cli.stdout.write(renderVerdicts(file, verdicts));
      } catch (err) {
        if (err instanceof ApiCallError && err.kind !== 'invalid-assertion' && err.kind !== 'invalid-signature') throw err;
        failed = true;
        all.push({ file, verdicts: [], error: (err as Error).message });
        if (!opts.json) cli.stdout.write(`${file}: INVALID: ${(err as Error).message}\n`);
      }
    }
    if (opts.json) cli.printJson(all);
    if (failed) cli.setExitCode(1);
  });

  withJson(
    program
      .command('ack')
      .argument('<file>', 'assertion file (one assertion or a stream)')
      .option('--trusted', 'store these account-key/account assertions as trusted roots, without a chain check')
      .description('add assertions to the coreforged assertion database, after checking their signatures and chains')
      .addHelpText('after', '\nExamples:\n  coreforge ack brand.account-key\n  coreforge ack --trusted my-root.account-key'),
  ).action(async (file: string, opts: { trusted?: boolean; json?: boolean }) => {
    const result = await keysClient(cli).add(await readInput(file, `assertions ${file}`), opts.trusted === true);
    if (opts.json) cli.printJson(result);
  });
}
