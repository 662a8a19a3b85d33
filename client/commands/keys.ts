import { resolve } from 'node:path';
import type { Command } from 'commander';
import { withJson, type CliContext } from '../context.js';
import { readUserFile } from '../files.js';
import { KeysClient } from '../keys-api.js';
import { readPassphrase } from '../passphrase.js';
import { renderTable } from '../render/table.js';
import { ApiCallError } from '../transport.js';
import { finalLine, watchChange } from './changes.js';

/** Adds --passphrase-file to a command that needs a key's passphrase. */
export function withPassphraseFile(cmd: Command): Command {
  return cmd.option('--passphrase-file <file>', 'read the passphrase from the first line of FILE (or set COREFORGE_PASSPHRASE); default: prompt without echo');
}

const passphraseHelp = `
The passphrase is prompted on the terminal without echo, or read from
--passphrase-file FILE or the COREFORGE_PASSPHRASE environment variable for
unattended use. It is sent to coreforged over its socket only, for this one
operation, and is never stored or logged.`;

export const keysClient = (cli: CliContext) => new KeysClient(cli.client());

export function registerKeyCommands(program: Command, cli: CliContext, env: NodeJS.ProcessEnv): void {
  withJson(
    withPassphraseFile(
      program
        .command('create-key')
        .argument('[name]', 'key name (lowercase letters, digits and hyphens)', 'default')
        .description('create a 4096-bit RSA signing key, encrypted with a passphrase, in the coreforged keyring')
        .addHelpText('after', `${passphraseHelp}\n\nGeneration takes a few seconds; progress is shown while it runs.\n\nExamples:\n  coreforge create-key\n  coreforge create-key my-model-key --passphrase-file ~/.config/coreforge/pass`),
    ),
  ).action(async (name: string, opts: { passphraseFile?: string; json?: boolean }) => {
    const keys = keysClient(cli);
    // The daemon checks the name before the passphrase: ask it first, so a bad
    // or taken name fails before anyone types a passphrase twice.
    try {
      await keys.create(name, '');
    } catch (err) {
      if (!(err instanceof ApiCallError) || err.kind !== 'passphrase-required') throw err;
    }
    const passphrase = await readPassphrase({ key: name, note: '(new key)', file: opts.passphraseFile, env, confirm: true });
    const id = await keys.create(name, passphrase);
    const change = await watchChange(cli, id, { quiet: opts.json });
    const { text, code } = finalLine(change);
    if (code !== 0) {
      cli.stderr.write(`error: cannot create key ${JSON.stringify(name)}: ${change.err ?? text}\n`);
      return cli.setExitCode(1);
    }
    const info = change.result as { name: string; 'sha3-384': string };
    if (opts.json) return cli.printJson(info);
    cli.stdout.write(`created key ${JSON.stringify(info.name)} with SHA3-384 ${info['sha3-384']}\n`);
  });

  const listKeys = async (opts: { json?: boolean }) => {
    const keys = await keysClient(cli).list();
    if (opts.json) return cli.printJson(keys);
    if (keys.length === 0) return void cli.stderr.write('No keys. Create one with "coreforge create-key".\n');
    cli.stdout.write(renderTable(['Name', 'SHA3-384', 'Registered'], keys.map((k) => [k.name, k['sha3-384'], k.registered ? 'yes' : '-'])));
  };
  withJson(
    program
      .command('keys')
      .alias('list-keys')
      .description('list the signing keys in the coreforged keyring')
      .addHelpText('after', '\nExample:\n  coreforge keys --json'),
  ).action(listKeys);

  withPassphraseFile(
    program
      .command('export-key')
      .argument('[name]', 'key name', 'default')
      .option('--account <id>', 'export an account-key-request for this store account id instead (needs the passphrase)')
      .description('print a public key (account-key body form), or an account-key-request to register it, like snap export-key')
      .addHelpText('after', `${passphraseHelp}\n\nExamples:\n  coreforge export-key my-model-key\n  coreforge export-key my-model-key --account 1234abcd > request.assert`),
  ).action(async (name: string, opts: { account?: string; passphraseFile?: string }) => {
    const keys = keysClient(cli);
    if (opts.account === undefined) {
      const out = await keys.exportPublicKey(name);
      return void cli.stdout.write(`${out.text}\n`);
    }
    await keys.exportPublicKey(name);
    const passphrase = await readPassphrase({ key: name, file: opts.passphraseFile, env });
    cli.stdout.write((await keys.exportRequest(name, opts.account, passphrase)).text);
  });

  withJson(
    withPassphraseFile(
      program
        .command('import-key')
        .argument('<name>', 'name for the key in the coreforged keyring')
        .option('--file <file>', 'an armored OpenPGP private key (gpg --armor --export-secret-keys)')
        .option('--gnupg-home <dir>', 'a gnupg home to export the key from, e.g. ~/.snap/gnupg (snapd keeps its keys there)')
        .option('--gnupg-name <name>', 'the key\'s name (user id) or fingerprint in that gnupg home; default: NAME')
        .description('import a signing key from an armored file or a gnupg home; it keeps its SHA3-384 id')
        .addHelpText(
          'after',
          `\nThe passphrase unlocks the source key (when it is encrypted) and encrypts\nthe copy coreforged keeps.${passphraseHelp}\n\nExamples:\n  coreforge import-key default --gnupg-home ~/.snap/gnupg\n  coreforge import-key brand-key --file brand-key.asc`,
        ),
    ),
  ).action(async (name: string, opts: { file?: string; gnupgHome?: string; gnupgName?: string; passphraseFile?: string; json?: boolean }) => {
    if ((opts.file === undefined) === (opts.gnupgHome === undefined)) {
      throw new Error('cannot import key: give exactly one of --file FILE or --gnupg-home DIR');
    }
    let armored: string | undefined;
    if (opts.file !== undefined) {
      armored = await readUserFile(opts.file, 'key file', 'name an armored private key (gpg --armor --export-secret-keys)').catch((err: Error) => {
        throw new Error(`cannot import key: ${err.message}`);
      });
    }
    const passphrase = await readPassphrase({
      key: name,
      note: opts.file !== undefined ? '(unlocks the file\'s key and protects the imported copy)' : '(of the key in the gnupg home; it protects the imported copy too)',
      file: opts.passphraseFile,
      env,
      confirm: opts.file !== undefined,
    });
    const info = await keysClient(cli).import({
      name,
      passphrase,
      ...(armored !== undefined ? { armored } : { 'gnupg-home': resolve(opts.gnupgHome!) }),
      ...(opts.gnupgName !== undefined ? { 'gnupg-name': opts.gnupgName } : {}),
    });
    if (opts.json) return cli.printJson(info);
    cli.stdout.write(`imported key ${JSON.stringify(info.name)} with SHA3-384 ${info['sha3-384']}\n`);
  });

  withPassphraseFile(
    program
      .command('delete-key')
      .argument('<name>', 'key name')
      .description('delete a signing key from the coreforged keyring (asks for its passphrase)')
      .addHelpText('after', `${passphraseHelp}\n\nExample:\n  coreforge delete-key old-key`),
  ).action(async (name: string, opts: { passphraseFile?: string }) => {
    const keys = keysClient(cli);
    await keys.exportPublicKey(name).catch((err: unknown) => {
      // the same check the daemon makes, before asking for a passphrase
      if (err instanceof ApiCallError && err.kind === 'key-not-found') throw new ApiCallError(err.kind, err.message.replace(/^cannot export/, 'cannot delete'), err.statusCode);
      throw err;
    });
    const passphrase = await readPassphrase({ key: name, note: '(to delete it)', file: opts.passphraseFile, env });
    await keys.delete(name, passphrase);
  });
}
