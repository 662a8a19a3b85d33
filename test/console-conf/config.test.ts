import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig, defaultConfig } from '../../console-conf/config.js';
import { parseArgs } from '../../console-conf/args.js';

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
