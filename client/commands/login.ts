import { openTerminal } from '../terminal.js';
import type { Command } from 'commander';
import { withJson, type CliContext } from '../context.js';
import { readUserFile } from '../files.js';
import { promptHidden, readPassphrase } from '../passphrase.js';
import { StoreApiClient } from '../store-api.js';
import { ApiCallError } from '../transport.js';
import { withPassphraseFile } from './keys.js';

/**
 * Reads one visible line from the terminal (email, one-time code); tty
 * streams, so nothing is left reading after it. `hint` says how to give it
 * without a terminal.
 */
export function promptLine(prompt: string, hint: string, ttyPath = '/dev/tty'): Promise<string> {
  const terminal = openTerminal(ttyPath);
  if (!terminal) {
    return Promise.reject(new Error(`cannot ask for ${prompt.replace(/:\s*$/, '').toLowerCase()}: there is no terminal to prompt on; ${hint}`));
  }
  const { input, output } = terminal;
  output.write(prompt);
  return new Promise<string>((resolve) => {
    let typed = '';
    const onData = (chunk: Buffer) => {
      typed += chunk.toString('utf8');
      const nl = typed.search(/[\r\n]/);
      if (nl < 0) return;
      input.off('data', onData);
      input.pause();
      // the streams own their fds and close them
      input.destroy();
      output.destroy();
      resolve(typed.slice(0, nl).trim());
    };
    input.on('data', onData);
    input.resume();
  });
}

/** The first line of a password file. */
async function passwordFromFile(path: string): Promise<string> {
  return (await readUserFile(path, 'password file', 'check the path and its permissions')).split('\n')[0]!.replace(/\r$/, '');
}

export const storeApi = (cli: CliContext) => new StoreApiClient(cli.client());

export function registerLoginCommands(program: Command, cli: CliContext, env: NodeJS.ProcessEnv): void {
  withJson(
    program
      .command('login')
      .argument('[email]', 'the store account\'s email (asked when not given)')
      .option('--password-file <file>', 'read the password from the first line of FILE (or set COREFORGE_STORE_PASSWORD); default: prompt without echo')
      .option('--otp <code>', 'the one-time code (asked when the store wants one)')
      .description('log in to the store (SSO macaroon discharge); the login is kept by coreforged, 0600 in its state dir')
      .addHelpText('after', '\nExamples:\n  coreforge login me@example.com\n  coreforge login me@example.com --password-file ~/.config/coreforge/store-pass --otp 123456'),
  ).action(async (emailArg: string | undefined, opts: { passwordFile?: string; otp?: string; json?: boolean }) => {
    const email = emailArg ?? (await promptLine('Email address: ', 'give it as an argument: coreforge login EMAIL'));
    const password =
      opts.passwordFile !== undefined
        ? await passwordFromFile(opts.passwordFile)
        : (env.COREFORGE_STORE_PASSWORD ??
          (await promptHidden({ prompt: `Password of "${email}": `, what: `the password of "${email}"`, hint: 'pass --password-file FILE or set COREFORGE_STORE_PASSWORD' })));
    const api = storeApi(cli);
    let account;
    try {
      account = await api.login(email, password, opts.otp);
    } catch (err) {
      if (!(err instanceof ApiCallError) || err.kind !== 'otp-required' || opts.otp !== undefined) throw err;
      account = await api.login(email, password, await promptLine('Second-factor auth: ', 'pass the one-time code with --otp CODE'));
    }
    if (opts.json) return cli.printJson(account);
    cli.stdout.write(`Login successful: ${account.email} (username ${account.username}, account-id ${account['account-id']})\n`);
  });

  program
    .command('logout')
    .description('forget the store login kept by coreforged')
    .addHelpText('after', '\nExample:\n  coreforge logout')
    .action(async () => {
      const r = await storeApi(cli).logout();
      cli.stdout.write(r['logged-out'] ? 'Logged out.\n' : 'Not logged in.\n');
    });

  withJson(
    program
      .command('whoami')
      .description('show the store account coreforged is logged in as')
      .addHelpText('after', '\nExample:\n  coreforge whoami'),
  ).action(async (opts: { json?: boolean }) => {
    let account;
    try {
      account = await storeApi(cli).account();
    } catch (err) {
      if (err instanceof ApiCallError && err.kind === 'login-required') {
        if (opts.json) return cli.printJson(null);
        return void cli.stdout.write('email: -\n');
      }
      throw err;
    }
    if (opts.json) return cli.printJson(account);
    cli.stdout.write(`email: ${account.email}\nusername: ${account.username}\naccount-id: ${account['account-id']}\n`);
  });

  withJson(
    withPassphraseFile(
      program
        .command('register-key')
        .argument('[name]', 'key name', 'default')
        .description('register a key with the logged-in store account; the issued account-key goes into the assertion database')
        .addHelpText('after', '\nThe passphrase unlocks the key to sign the account-key-request.\n\nExamples:\n  coreforge register-key\n  coreforge register-key my-model-key --passphrase-file ~/.config/coreforge/pass'),
    ),
  ).action(async (name: string, opts: { passphraseFile?: string; json?: boolean }) => {
    const passphrase = await readPassphrase({ key: name, file: opts.passphraseFile, env });
    const r = await storeApi(cli).registerKey(name, passphrase);
    if (opts.json) return cli.printJson(r);
    cli.stdout.write(`registered key ${JSON.stringify(r.name)} (SHA3-384 ${r['sha3-384']}) with account ${r['account-id']}\n`);
  });
}
