import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseConfig, defaultConfig } from '../../console-conf/config.js';
import { loadConfig } from '../../console-conf/config-file.js';
import { parseArgs } from '../../console-conf/args.js';
import { makeTempDir } from '../helpers/tmp.js';
import { aliasBomb, mainEntry, repoRoot } from './helpers.js';

test('an empty config gives the defaults: the real SSO, netplan apply, automatic backend', () => {
  assert.deepEqual(parseConfig('', 'c.yaml'), defaultConfig());
  assert.equal(defaultConfig().ssoUrl, 'https://login.ubuntu.com');
  assert.equal(defaultConfig().backend, undefined);
});

test('JSON and YAML configs with every key are read alike', () => {
  const want = {
    ssoUrl: 'http://127.0.0.1:9',
    backend: 'direct',
    netplanApply: ['/bin/true', '--x'],
    githubUrl: 'http://gh',
    launchpadUrl: 'http://lp',
  };
  assert.deepEqual(
    parseConfig('{"sso-url":"http://127.0.0.1:9/","backend":"direct","netplan-apply":["/bin/true","--x"],"github-url":"http://gh","launchpad-url":"http://lp"}', 'c.json'),
    want,
  );
  assert.deepEqual(parseConfig('sso-url: http://127.0.0.1:9\nbackend: direct\nnetplan-apply: /bin/true --x\ngithub-url: http://gh\nlaunchpad-url: http://lp\n', 'c.yaml'), want);
});

const bad: [string, string][] = [
  ['sso-url: x\nfoo: 1\nbar: 2\n', 'unknown keys "foo", "bar"; use only sso-url, backend, netplan-apply, github-url, launchpad-url'],
  ['sso_url: http://x\n', 'unknown key "sso_url"; use only sso-url, backend, netplan-apply, github-url, launchpad-url'],
  ['backend: dbus\n', '"backend" must be "snapd" or "direct"; pick one of them'],
  ['sso-url: ftp://x\n', '"sso-url" must be an http or https URL; write e.g. sso-url: https://host'],
  ['netplan-apply: 3\n', '"netplan-apply" must be a command line or a list of arguments; write e.g. netplan-apply: netplan apply'],
  ['- a\n', 'it is not a mapping; write a mapping with keys sso-url, backend, netplan-apply, github-url, launchpad-url'],
  ['{"a": ', 'it is not valid JSON or YAML (flow map must end with a } at line 1, column 7:); fix the syntax'],
];
for (const [text, why] of bad) {
  test(`config ${JSON.stringify(text)} is refused naming the problem`, () => {
    assert.throws(() => parseConfig(text, 'c.yaml'), { kind: 'invalid-config', message: `cannot use config c.yaml: ${why}` });
  });
}

test('flags: --serial, --root DIR, --config=FILE; anything else is refused', () => {
  assert.deepEqual(parseArgs(['--serial', '--root', '/r', '--config=/c']), { serial: true, root: '/r', config: '/c', help: false });
  assert.throws(() => parseArgs(['--rot', 'x']), {
    message: 'cannot use argument "--rot": it is not a known flag; usage: console-conf [--serial] [--root DIR] [--config FILE]',
  });
  assert.throws(() => parseArgs(['--root']), { message: 'cannot use --root: it needs a value; usage: console-conf [--serial] [--root DIR] [--config FILE]' });
});

const usage = 'usage: console-conf [--serial] [--root DIR] [--config FILE]';
const argCases: [string[], object | string][] = [
  [[], { serial: false, root: '/', help: false }],
  [['-h'], { serial: false, root: '/', help: true }],
  [['--root='], { serial: false, root: '', help: false }],
  [['--root', '--serial'], { serial: false, root: '--serial', help: false }],
  [['--config', 'c', '--config=d', '--root=a=b'], { serial: false, root: 'a=b', config: 'd', help: false }],
  [['--root', ''], 'cannot use --root: it needs a value'],
  [['--config'], 'cannot use --config: it needs a value'],
  [['--serial=1'], 'cannot use argument "--serial=1": it is not a known flag'],
  [['-hx'], 'cannot use argument "-hx": it is not a known flag'],
  [['--root', '/a', 'extra'], 'cannot use argument "extra": it is not a known flag'],
  [['--serial', '--', '--root'], 'cannot use argument "--": it is not a known flag'],
  [['--constructor'], 'cannot use argument "--constructor": it is not a known flag'],
];
for (const [argv, want] of argCases) {
  test(`flags ${JSON.stringify(argv)} give ${typeof want === 'string' ? 'an error' : 'their values'}, as they always did`, () => {
    if (typeof want === 'string') assert.throws(() => parseArgs(argv), { kind: 'invalid-config', message: `${want}; ${usage}` });
    else assert.deepEqual(parseArgs(argv), want);
  });
}

// --- issue 12, finding 7: the config file is read and parsed within bounds

const BIG = `backend: direct\n${'#'.repeat(65 * 1024)}\n`;
const bounded: [string, string, string][] = [
  ['a 9-level alias bomb', aliasBomb(9), 'its aliases (*name) expand past the limit of 100 alias expansions; write the repeated values out instead of using anchors (&name) and aliases'],
  ['lists nested 65 deep', `netplan-apply: ${'['.repeat(65)}${']'.repeat(65)}\n`, 'it nests mappings and lists deeper than 64 levels; flatten it'],
  ['text over 64 KiB', BIG, `it is ${Buffer.byteLength(BIG)} bytes, over the limit of 64 KiB; make it smaller`],
];
for (const [name, text, why] of bounded) {
  test(`${name} in a config is refused quickly, naming the limit`, () => {
    const t0 = Date.now();
    assert.throws(() => parseConfig(text, 'c.yaml'), { kind: 'invalid-config', message: `cannot use config c.yaml: ${why}` });
    assert.ok(Date.now() - t0 < 1000, 'no expansion was attempted');
  });
}

test('a config of exactly 64 KiB, with anchors used a few times, is accepted', async (t) => {
  const { dir, cleanup } = await makeTempDir();
  t.after(cleanup);
  const head = 'netplan-apply: &cmd [netplan, apply]\nbackend: direct\n';
  const text = head + '#'.repeat(64 * 1024 - head.length - 1) + '\n';
  assert.equal(Buffer.byteLength(text), 64 * 1024);
  await writeFile(join(dir, 'c.yaml'), text);
  assert.deepEqual((await loadConfig(join(dir, 'c.yaml'))).netplanApply, ['netplan', 'apply']);
});

test('a config file over 64 KiB is refused from its size, before it is read', async (t) => {
  const { dir, cleanup } = await makeTempDir();
  t.after(cleanup);
  const path = join(dir, 'big.yaml');
  await writeFile(path, 'a'.repeat(10 * 1024 * 1024));
  await assert.rejects(loadConfig(path), { kind: 'invalid-config', message: `cannot use config ${path}: it is 10485760 bytes, over the limit of 64 KiB; make it smaller` });
});

test('a config that is a FIFO, /dev/zero or a symlink to it is refused without reading from it', { timeout: 10_000 }, async (t) => {
  const { dir, cleanup } = await makeTempDir();
  t.after(cleanup);
  const fifo = join(dir, 'fifo.yaml');
  execFileSync('mkfifo', [fifo]);
  await assert.rejects(loadConfig(fifo), { kind: 'invalid-config', message: `cannot use config ${fifo}: it is a FIFO, not a regular file; replace it with a regular file` });
  await assert.rejects(loadConfig('/dev/zero'), {
    kind: 'invalid-config',
    message: 'cannot use config /dev/zero: it is a character device, not a regular file; replace it with a regular file',
  });
  const link = join(dir, 'zero.yaml');
  await symlink('/dev/zero', link);
  await assert.rejects(loadConfig(link), { kind: 'invalid-config', message: `cannot use config ${link}: it is a character device, not a regular file; replace it with a regular file` });
});

test('console-conf given a FIFO as --config exits with the reason instead of hanging', async (t) => {
  const { dir, cleanup } = await makeTempDir();
  t.after(cleanup);
  const fifo = join(dir, 'c.yaml');
  execFileSync('mkfifo', [fifo]);
  const r = spawnSync(process.execPath, ['--import', 'tsx', mainEntry, '--root', dir, '--config', fifo], { cwd: repoRoot, encoding: 'utf8', input: '', timeout: 30_000 });
  assert.equal(r.signal, null, 'it did not have to be killed');
  assert.equal(r.status, 2);
  assert.equal(r.stderr, `console-conf: cannot use config ${fifo}: it is a FIFO, not a regular file; replace it with a regular file\n`);
});
