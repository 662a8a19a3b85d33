import { resolve } from 'node:path';
import type { Command } from 'commander';
import { collect, withJson, type CliContext } from '../context.js';
import { readUserFile } from '../files.js';
import { renderTable } from '../render/table.js';
import { finalLine, watchChange } from './changes.js';
import { storeApi } from './login.js';


export function registerStoreCommands(program: Command, cli: CliContext): void {
  const store = program
    .command('store')
    .description('the embedded local store: snaps, channels and accounts (served by coreforged --store-listen)')
    .addHelpText('after', '\nExamples:\n  coreforge store add pc-kernel_1.snap --channel 18/stable\n  coreforge store list');

  withJson(
    store
      .command('add')
      .argument('<file...>', '.snap files')
      .option('--channel <channel>', 'release each to TRACK/RISK, e.g. 18/stable')
      .description('add snaps to the local store: next revision, signed snap-declaration and snap-revision')
      .addHelpText('after', '\nAdding the same file again changes nothing.\n\nExample:\n  coreforge store add pc_1.snap pc-kernel_1.snap --channel 18/stable'),
  ).action(async (files: string[], opts: { channel?: string; json?: boolean }) => {
    const api = storeApi(cli);
    const out = [];
    for (const f of files) out.push(await api.addSnap(resolve(f), opts.channel));
    if (opts.json) return cli.printJson(out);
    for (const r of out) {
      cli.stdout.write(`${r.added ? 'added' : 'already in the store:'} ${r.name} ${r.version} revision ${r.revision}${r.channels.length ? ` released to ${r.channels.join(', ')}` : ''}\n`);
    }
  });

  withJson(
    store
      .command('release')
      .argument('<name>', 'snap name')
      .argument('<revision>', 'revision number')
      .argument('<channel>', 'TRACK/RISK, e.g. latest/stable')
      .description('point a channel of the local store at a revision')
      .addHelpText('after', '\nExample:\n  coreforge store release pc-kernel 2 18/beta'),
  ).action(async (name: string, revision: string, channel: string, opts: { json?: boolean }) => {
    const rev = Number(revision);
    if (!/^\d+$/.test(revision) || rev < 1) throw new Error(`cannot release snap ${JSON.stringify(name)}: revision ${JSON.stringify(revision)} is not a positive integer`);
    const r = await storeApi(cli).release(name, rev, channel);
    if (opts.json) return cli.printJson(r);
    cli.stdout.write(`released ${r.name} revision ${r.revision} to ${r.channel}\n`);
  });

  withJson(
    store
      .command('list')
      .description('list the snaps of the local store with their channels')
      .addHelpText('after', '\nExample:\n  coreforge store list --json'),
  ).action(async (opts: { json?: boolean }) => {
    const snaps = await storeApi(cli).snaps();
    if (opts.json) return cli.printJson(snaps);
    if (snaps.length === 0) return void cli.stderr.write('No snaps. Add one with "coreforge store add FILE".\n');
    const rows = snaps.flatMap((s) =>
      s.revisions.map((r) => {
        const chans = Object.entries(s.channels).flatMap(([ch, archs]) => Object.entries(archs).filter(([, n]) => n === r.revision).map(([a]) => `${ch} (${a})`));
        return [s.name, String(r.revision), r.version, r.architectures.join(','), chans.join(', ') || '-'];
      }),
    );
    cli.stdout.write(renderTable(['Name', 'Rev', 'Version', 'Arch', 'Channels'], rows));
  });

  withJson(
    store
      .command('download')
      .argument('<name>', 'snap name')
      .option('--channel <channel>', 'channel', 'stable')
      .option('--arch <arch>', 'architecture', 'amd64')
      .description('resolve and download a snap from the store into the coreforged cache, with its assertions')
      .addHelpText('after', '\nExample:\n  coreforge store download pc-kernel --channel 18/stable --arch amd64'),
  ).action(async (name: string, opts: { channel: string; arch: string; json?: boolean }) => {
    const id = await storeApi(cli).download(name, opts.channel, opts.arch);
    const change = await watchChange(cli, id, { quiet: opts.json });
    const { text, code } = finalLine(change);
    if (code !== 0) {
      cli.stderr.write(`error: ${change.err ?? text}\n`);
      return cli.setExitCode(1);
    }
    const r = change.result as { name: string; revision: number; path: string; downloaded: number };
    if (opts.json) return cli.printJson(r);
    cli.stdout.write(`${r.name} revision ${r.revision}: ${r.path} (${r.downloaded} bytes downloaded)\n`);
  });

  const account = store
    .command('account')
    .description('accounts of the local store (what `coreforge login` and console-conf look up)')
    .addHelpText('after', '\nExamples:\n  coreforge store account add me@example.com --username me --ssh-key ~/.ssh/id_ed25519.pub\n  coreforge store account list');

  withJson(
    account
      .command('add')
      .argument('<email>', 'the account\'s email')
      .requiredOption('--username <name>', 'the account\'s username (the device user console-conf creates)')
      .option('--ssh-key <file>', 'an OpenSSH public key file (repeatable; every key line is taken)', collect, [])
      .option('--password-file <file>', 'the password for `coreforge login`, first line of FILE')
      .option('--otp-secret <base32>', 'a TOTP secret: login then needs a one-time code')
      .description('add an account to the local store')
      .addHelpText('after', '\nExample:\n  coreforge store account add me@example.com --username me --ssh-key ~/.ssh/id_ed25519.pub --password-file pass.txt'),
  ).action(async (email: string, opts: { username: string; sshKey: string[]; passwordFile?: string; otpSecret?: string; json?: boolean }) => {
    const keys: string[] = [];
    for (const f of opts.sshKey) {
      const text = await readUserFile(f, 'SSH key file', 'name an OpenSSH public key file such as ~/.ssh/id_ed25519.pub');
      keys.push(...text.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#')));
    }
    let password: string | undefined;
    if (opts.passwordFile !== undefined) {
      password = (await readUserFile(opts.passwordFile, 'password file', 'check the path and its permissions')).split('\n')[0]!.replace(/\r$/, '');
    }
    const a = await storeApi(cli).addAccount({ email, username: opts.username, 'ssh-keys': keys, ...(password ? { password } : {}), ...(opts.otpSecret ? { 'otp-secret': opts.otpSecret } : {}) });
    if (opts.json) return cli.printJson(a);
    cli.stdout.write(`added account ${a.email} (username ${a.username}, account-id ${a['account-id']}, ${a['ssh-keys'].length} SSH keys)\n`);
  });

  withJson(
    account
      .command('list')
      .description('list the accounts of the local store')
      .addHelpText('after', '\nExample:\n  coreforge store account list'),
  ).action(async (opts: { json?: boolean }) => {
    const list = await storeApi(cli).accounts();
    if (opts.json) return cli.printJson(list);
    if (list.length === 0) return void cli.stderr.write('No accounts. Add one with "coreforge store account add EMAIL --username NAME".\n');
    cli.stdout.write(renderTable(['Email', 'Username', 'Account-ID', 'SSH keys', 'Password'], list.map((a) => [a.email, a.username, a['account-id'], String(a['ssh-keys'].length), a['has-password'] ? (a['has-otp'] ? 'yes+otp' : 'yes') : '-'])));
  });
}
