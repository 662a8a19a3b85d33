import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as openpgp from 'openpgp';
import * as pty from 'node-pty';
import { decodeAssertion, decodeStream, publicKeyFromOpenPGP } from '../../daemon/asserts/index.js';
import { cliEntry, repoRoot, startDaemon, type DaemonProcess } from '../helpers/daemon.js';
import { gpgExportPublic, makeGnupgHome } from '../helpers/gnupg.js';
import { makeTempDir } from '../helpers/tmp.js';
import { chainsDir } from '../helpers/vectors.js';

const passphrase = 'brand key passphrase';

/**
 * The journey of the issue through the real CLI and daemon. The one RSA-4096
 * key of this file ("brand-key") is created once and reused by every test.
 *
 * A key made here has no account-key from a store, so its signatures chain to
 * nothing coreforged trusts. The documented way to check them locally: sign an
 * account-key statement for the key with the key itself (a self-signed root,
 * as Canonical's root key is) and pass it to `verify --trusted FILE`, or add it
 * as a trusted root with `ack --trusted FILE`.
 */
describe('coreforge keys, sign, verify and ack', () => {
  let daemon: DaemonProcess;
  let dir: string;
  let cleanup: () => Promise<void>;
  let keyId: string;

  /** Runs the CLI with optional stdin; the passphrase comes from COREFORGE_PASSPHRASE unless env overrides. */
  const cf = (args: string[], opts: { input?: string; env?: Record<string, string | undefined> } = {}) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve, reject) => {
      const env: NodeJS.ProcessEnv = { ...process.env, COREFORGE_SOCKET: daemon.socketPath, COREFORGE_PASSPHRASE: passphrase };
      for (const [k, v] of Object.entries(opts.env ?? {})) {
        if (v === undefined) delete env[k];
        else env[k] = v;
      }
      const proc = spawn(process.execPath, ['--import', 'tsx', cliEntry, ...args], { cwd: repoRoot, env, stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      proc.on('error', reject);
      proc.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }));
      proc.stdin.end(opts.input ?? '');
    });

  const file = async (name: string, text: string) => {
    const path = join(dir, name);
    await writeFile(path, text);
    return path;
  };

  const model = (extra: Record<string, unknown> = {}) =>
    JSON.stringify({
      type: 'model',
      'authority-id': 'brand1',
      'brand-id': 'brand1',
      series: '16',
      model: 'my-device',
      architecture: 'arm64',
      base: 'core22',
      grade: 'signed',
      snaps: [
        { name: 'pi', type: 'gadget', id: 'YbGa9O3dAXl88YLI6Y1bGG74pwBxZyKg', 'default-channel': '22/stable' },
        { name: 'pi-kernel', type: 'kernel', id: 'jeIuP6tfFrvAdic8DMWqHmoaoukAPNbJ', 'default-channel': '22/stable' },
      ],
      timestamp: '2024-05-01T12:00:00Z',
      ...extra,
    });

  before(async () => {
    const tmp = await makeTempDir();
    dir = tmp.dir;
    cleanup = tmp.cleanup;
    daemon = await startDaemon({ socketPath: join(dir, 'cli.sock'), stateDir: join(dir, 'state') });
  });
  after(async () => {
    await daemon.stop();
    await cleanup();
  });

  it('create-key makes an RSA-4096 key through a change; keys lists it', async () => {
    const created = await cf(['create-key', 'brand-key'], { env: {} });
    assert.equal(created.code, 0, created.stderr);
    const m = /^created key "brand-key" with SHA3-384 ([A-Za-z0-9_-]{64})\n$/.exec(created.stdout);
    assert.ok(m, created.stdout);
    keyId = m[1]!;
    const listed = await cf(['keys']);
    assert.equal(listed.stdout, `Name       SHA3-384${' '.repeat(58)}Registered\nbrand-key  ${keyId}  -\n`);
    const json = await cf(['list-keys', '--json']);
    assert.deepEqual((JSON.parse(json.stdout) as { name: string; 'sha3-384': string }[]).map((k) => [k.name, k['sha3-384']]), [['brand-key', keyId]]);
    assert.ok(!daemon.logs().includes(passphrase));
  });

  it('refuses a duplicate, an invalid name and a mismatched passphrase file with clear errors', async () => {
    const dup = await cf(['create-key', 'brand-key']);
    assert.equal(dup.code, 1);
    assert.equal(dup.stderr, 'error: key named "brand-key" already exists in coreforge keyring; choose another name, or delete the old key first with "coreforge delete-key brand-key"\n');
    const invalid = await cf(['create-key', 'Brand_Key']);
    assert.equal(invalid.code, 1);
    assert.match(invalid.stderr, /^error: key name "Brand_Key" is not valid; only ASCII letters, digits, and hyphens are allowed/);
    const noFile = await cf(['create-key', 'other', '--passphrase-file', join(dir, 'missing')]);
    assert.equal(noFile.code, 1);
    assert.equal(noFile.stderr, `error: cannot read passphrase file ${join(dir, 'missing')}: no such file; check the path and its permissions\n`);
    const noTty = await cf(['create-key', 'other'], { env: { COREFORGE_PASSPHRASE: undefined } });
    assert.equal(noTty.code, 1);
    assert.equal(noTty.stderr, 'error: cannot read passphrase for key "other": there is no terminal to prompt on; pass --passphrase-file FILE or set COREFORGE_PASSPHRASE\n');
  });

  it('signs a model, verifies it against a self-signed root, and acks it', async () => {
    const pub = await cf(['export-key', 'brand-key']);
    assert.equal(pub.code, 0);
    const rootStatement = await file(
      'root.json',
      JSON.stringify({
        type: 'account-key',
        'authority-id': 'brand1',
        'account-id': 'brand1',
        name: 'brand-key',
        since: '2024-01-01T00:00:00Z',
        'public-key-sha3-384': keyId,
        body: pub.stdout.trimEnd(),
      }),
    );
    const root = await cf(['sign', '-k', 'brand-key', rootStatement]);
    assert.equal(root.code, 0, root.stderr);
    assert.equal(root.stderr, 'WARNING: could not fetch account-key to cross-check signed assertion with key constraints.\n');
    const rootFile = await file('brand1.account-key', root.stdout);

    const signed = await cf(['sign', '-k', 'brand-key', '-'], { input: model() });
    assert.equal(signed.code, 0, signed.stderr);
    const a = decodeAssertion(signed.stdout);
    assert.equal(a.signKeyId, keyId);
    assert.equal(a.headers.timestamp, '2024-05-01T12:00:00Z');
    const modelFile = await file('my-device.model', signed.stdout);

    const untrusted = await cf(['verify', modelFile]);
    assert.equal(untrusted.code, 1);
    assert.equal(untrusted.stdout, `${modelFile}: model 16/brand1/my-device: INVALID: no matching public key "${keyId}" for signature by "brand1"; the key that signed it is unknown to coreforged: register it with the brand's store account ("coreforge login EMAIL", then "coreforge register-key KEY"), or "coreforge ack" the brand's account-key and account assertions\n`);
    const trusted = await cf(['verify', modelFile, '--trusted', rootFile]);
    assert.equal(trusted.code, 0, trusted.stdout + trusted.stderr);
    assert.equal(trusted.stdout, `${modelFile}: model 16/brand1/my-device: valid: signature chain of 1 key up to the trusted root key "${keyId}" of "brand1"\n`);

    const tampered = await file('tampered.model', signed.stdout.replace('my-device', 'my-devicf'));
    const both = await cf(['verify', modelFile, tampered, '--trusted', rootFile, '--json']);
    assert.equal(both.code, 1);
    const verdicts = JSON.parse(both.stdout) as { file: string; verdicts: { valid: boolean; kind?: string; fix?: string }[] }[];
    assert.deepEqual(verdicts.map((v) => [v.verdicts[0]!.valid, v.verdicts[0]!.kind]), [[true, undefined], [false, 'invalid-signature']]);
    // each cause has its own fix, as the build's model check gives it
    assert.equal(verdicts[0]!.verdicts[0]!.fix, undefined);
    assert.equal(verdicts[1]!.verdicts[0]!.fix, 'the model was changed after it was signed: edit the JSON statement, not the signed model, and sign it again ("coreforge sign -k KEY model.json > model.model")');

    const refused = await cf(['ack', modelFile]);
    assert.equal(refused.code, 1);
    assert.equal(refused.stderr, `error: cannot add model "16/brand1/my-device": no matching public key "${keyId}" for signature by "brand1"\n`);
    assert.equal((await cf(['ack', '--trusted', rootFile])).code, 0);
    const acked = await cf(['ack', modelFile]);
    assert.equal(acked.code, 0, acked.stderr);
    assert.equal(acked.stdout, '');
    assert.equal((await cf(['verify', modelFile])).code, 0);

    // with the account-key known, sign cross-checks authority-id and stops warning
    const again = await cf(['sign', '-k', 'brand-key', '--update-timestamp'], { input: model() });
    assert.equal(again.stderr, '');
    assert.notEqual(decodeAssertion(again.stdout).headers.timestamp, '2024-05-01T12:00:00Z');
    const chain = await cf(['sign', '-k', 'brand-key', '--chain'], { input: model() });
    assert.equal(chain.code, 1);
    assert.equal(chain.stderr, 'error: cannot create assertion chain: no account assertion for "brand1" in the assertion database; add it with "coreforge ack FILE"\n');
  });

  it('verify finds signing keys and accounts across all the files it is given', async () => {
    const generic = join(chainsDir, 'generic');
    const files = ['generic-classic.model', 'generic-models.account-key', 'generic.account'].map((f) => join(generic, f));
    const res = await cf(['verify', ...files]);
    assert.equal(res.code, 0, res.stdout);
    assert.equal(res.stdout.split('\n').filter((l) => l.includes(': valid: ')).length, 3, res.stdout);
    const alone = await cf(['verify', files[0]!]);
    assert.equal(alone.code, 1);
    const truncated = await file('truncated.model', readFileSync(files[0]!, 'utf8').slice(0, 200));
    const bad = await cf(['verify', truncated, files[1]!]);
    assert.equal(bad.code, 1);
    assert.match(bad.stdout, new RegExp(`^${truncated}: INVALID: `));
    assert.match(bad.stdout, /generic-models.account-key: account-key d-JcZF9n[^:]+: valid: /);
  });

  const badInputs: [string, string, string | RegExp][] = [
    ['input that is not JSON', 'type: model\n', /^error: cannot parse the assertion input as JSON: /],
    ['a JSON array', '["type", "model"]', 'error: cannot parse the assertion input as JSON: expected an object of headers, not: [type model]\n'],
    ['a number in a header', '{"type":"model","authority-id":"brand1","revision":1}', 'error: header "revision": header values must be strings or nested lists or maps with strings as the only scalars: 1\n'],
    ['a boolean in a header', '{"type":"model","authority-id":"brand1","x":{"y":false}}', 'error: header "x": header values must be strings or nested lists or maps with strings as the only scalars: false\n'],
    ['null in a header', '{"type":"model","authority-id":"brand1","x":null}', 'error: header "x": header values must be strings or nested lists or maps with strings as the only scalars: <nil>\n'],
    ['a missing type', '{"authority-id":"brand1"}', 'error: missing assertion type header\n'],
    ['an unknown type', '{"type":"gizmo","authority-id":"brand1"}', 'error: invalid assertion type: gizmo\n'],
    ['a non-string type', '{"type":["model"]}', 'error: assertion type must be a string, not: [model]\n'],
  ];
  for (const [what, input, message] of badInputs) {
    it(`sign refuses ${what} with snapd's error and exit 1`, async () => {
      const res = await cf(['sign', '-k', 'brand-key'], { input });
      assert.equal(res.code, 1);
      assert.equal(res.stdout, '');
      if (typeof message === 'string') assert.equal(res.stderr, message);
      else assert.match(res.stderr, message);
    });
  }

  it('sign refuses a wrong passphrase, an unknown key and an unreadable file', async () => {
    const wrong = await cf(['sign', '-k', 'brand-key'], { input: model(), env: { COREFORGE_PASSPHRASE: 'nope' } });
    assert.equal(wrong.code, 1);
    assert.equal(wrong.stderr, 'error: cannot use "brand-key" key: wrong passphrase; give the passphrase chosen at create-key or import-key\n');
    const unknown = await cf(['sign', '-k', 'no-such-key'], { input: model() });
    assert.equal(unknown.stderr, 'error: cannot use "no-such-key" key: cannot find key pair in coreforge keyring; list the keys with "coreforge keys"\n');
    const missing = await cf(['sign', join(dir, 'nope.json')]);
    assert.equal(missing.stderr, `error: cannot read assertion input: open ${join(dir, 'nope.json')}: no such file or directory\n`);
  });

  it('export-key --account prints a self-signed account-key-request', async () => {
    const pass = await file('pass', `${passphrase}\n`);
    const res = await cf(['export-key', 'brand-key', '--account', 'acct-123', '--passphrase-file', pass], { env: { COREFORGE_PASSPHRASE: undefined } });
    assert.equal(res.code, 0, res.stderr);
    const req = decodeAssertion(res.stdout);
    assert.equal(req.type, 'account-key-request');
    assert.equal(req.headers['account-id'], 'acct-123');
    assert.equal(req.headers['public-key-sha3-384'], keyId);
    const verdict = JSON.parse((await cf(['verify', await file('req', res.stdout), '--json'])).stdout) as { verdicts: { valid: boolean; reason: string }[] }[];
    assert.deepEqual(verdict[0]!.verdicts.map((v) => [v.valid, v.reason]), [[true, 'self-signed: the signature matches the key in its body']]);
  });

  it('import-key keeps the SHA3-384 ids snapd computes, from an armored file and from a gnupg home', async () => {
    const fromFile = await cf(['import-key', 'test-root', '--file', join(chainsDir, 'snapd-testkeys/test-root.private.asc')]);
    assert.equal(fromFile.code, 0, fromFile.stderr);
    const ak = decodeStream(readFileSync(join(chainsDir, 'snapd-testkeys/test-root.account-key')))[0]!;
    assert.equal(fromFile.stdout, `imported key "test-root" with SHA3-384 ${ak.headers['public-key-sha3-384']}\n`);

    const gnupg = makeGnupgHome(dir, { name: 'snap-key', passphrase: 'gpg secret' });
    try {
      const wrong = await cf(['import-key', 'snap-key', '--gnupg-home', gnupg.home], { env: { COREFORGE_PASSPHRASE: 'not it' } });
      assert.equal(wrong.code, 1);
      assert.match(wrong.stderr, /wrong passphrase/);
      const res = await cf(['import-key', 'snap-key', '--gnupg-home', gnupg.home, '--json'], { env: { COREFORGE_PASSPHRASE: 'gpg secret' } });
      assert.equal(res.code, 0, res.stderr);
      const exported = await openpgp.readKey({ binaryKey: gpgExportPublic(gnupg.home, 'snap-key') });
      assert.equal((JSON.parse(res.stdout) as { 'sha3-384': string })['sha3-384'], publicKeyFromOpenPGP(exported).id);
    } finally {
      gnupg.dispose();
    }
    const neither = await cf(['import-key', 'x']);
    assert.equal(neither.stderr, 'error: cannot import key: give exactly one of --file FILE or --gnupg-home DIR\n');
  });

  it('prompts for passphrases on the terminal without echo, and refuses mismatched ones', async () => {
    const run = (args: string[], answers: string[]) =>
      new Promise<{ code: number; screen: string }>((resolve) => {
        const env = { ...process.env, COREFORGE_SOCKET: daemon.socketPath } as Record<string, string>;
        delete env.COREFORGE_PASSPHRASE;
        const term = pty.spawn(process.execPath, ['--import', 'tsx', cliEntry, ...args], { name: 'xterm', cols: 120, rows: 30, cwd: repoRoot, env });
        let screen = '';
        let answered = 0;
        term.onData((d) => {
          screen += d;
          const prompts = (screen.match(/assphrase for key "[^"]*"[^:]*: /g) ?? []).length;
          if (prompts > answered && answered < answers.length) term.write(`${answers[answered++]}\r`);
        });
        term.onExit(({ exitCode }) => resolve({ code: exitCode, screen }));
      });
    const mismatch = await run(['create-key', 'typed-key'], ['first secret', 'second secret']);
    assert.equal(mismatch.code, 1, mismatch.screen);
    assert.match(mismatch.screen, /Passphrase for key "typed-key" \(new key\): [\s\S]*Confirm passphrase for key "typed-key": [\s\S]*error: cannot use the passphrase for key "typed-key": the two passphrases typed differ; type the same one twice/);
    assert.ok(!mismatch.screen.includes('first secret') && !mismatch.screen.includes('second secret'), JSON.stringify(mismatch.screen));

    const deleted = await run(['delete-key', 'test-root'], [passphrase]);
    assert.equal(deleted.code, 0, deleted.screen);
    assert.ok(!deleted.screen.includes(passphrase), JSON.stringify(deleted.screen));
    const after = (await cf(['keys'])).stdout;
    assert.ok(!after.includes('test-root'), after);
  });

  it('delete-key refuses an unknown key before asking for a passphrase', async () => {
    const res = await cf(['delete-key', 'ghost'], { env: { COREFORGE_PASSPHRASE: undefined } });
    assert.equal(res.code, 1);
    assert.equal(res.stderr, 'error: cannot delete key named "ghost": cannot find key pair in coreforge keyring; list the keys with "coreforge keys"\n');
    assert.equal(await readFile(join(dir, 'pass'), 'utf8'), `${passphrase}\n`);
  });
});
