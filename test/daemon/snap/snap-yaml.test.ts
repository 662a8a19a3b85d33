import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isValidSnapName, snapNameRule } from '../../../daemon/snap/name.js';
import { parseSnapYaml } from '../../../daemon/snap/snap-yaml.js';

const rebuild = 'fix it in snapcraft.yaml and rebuild the snap';

test('a minimal snap.yaml gets snapd defaults: app, all architectures, strict, stable, no base', () => {
  assert.deepEqual(parseSnapYaml('name: hello\nversion: 1.0\n'), {
    name: 'hello', version: '1', type: 'app', architectures: ['all'], base: '', confinement: 'strict', grade: 'stable', summary: '',
  });
});

test('every field coreforge uses is read as written', () => {
  const text = 'name: pc-kernel\nversion: "5.4-1+git~x"\ntype: kernel\narchitectures: [amd64]\nbase: core20\nconfinement: devmode\ngrade: devel\nsummary: the kernel\n';
  assert.deepEqual(parseSnapYaml(text), {
    name: 'pc-kernel', version: '5.4-1+git~x', type: 'kernel', architectures: ['amd64'], base: 'core20', confinement: 'devmode', grade: 'devel', summary: 'the kernel',
  });
});

const bad: [string, string, string][] = [
  ['a list', '- a\n', `meta/snap.yaml is not a map of fields; ${rebuild}`],
  ['an invalid name', 'name: Bad_Name!\nversion: 1\n', `meta/snap.yaml: invalid snap name: "Bad_Name!"; a name is ${snapNameRule}; ${rebuild}`],
  ['a one-letter name', 'name: a\nversion: 1\n', `meta/snap.yaml: invalid snap name: "a"; a name is ${snapNameRule}; ${rebuild}`],
  ['no name', 'version: 1\n', `meta/snap.yaml: invalid snap name: ""; a name is ${snapNameRule}; ${rebuild}`],
  ['no version', 'name: hello\n', `meta/snap.yaml: invalid snap version: cannot be empty; ${rebuild}`],
  ['a version with a space', 'name: hello\nversion: "1 0"\n', `meta/snap.yaml: invalid snap version "1 0": must be at most 32 letters, digits and ":.+~-", not starting or ending with ":.-"; ${rebuild}`],
  ['a version ending in a dot', 'name: hello\nversion: "1."\n', `meta/snap.yaml: invalid snap version "1.": must be at most 32 letters, digits and ":.+~-", not starting or ending with ":.-"; ${rebuild}`],
  ['an unknown type', 'name: hello\nversion: 1\ntype: driver\n', `meta/snap.yaml: invalid snap type "driver": must be one of app, gadget, kernel, base, os, snapd; ${rebuild}`],
  ['an empty architectures list', 'name: hello\nversion: 1\narchitectures: []\n', `meta/snap.yaml: "architectures" must be a non-empty list of architecture names such as amd64; ${rebuild}`],
  ['an architecture that is not a name', 'name: hello\nversion: 1\narchitectures: [AMD 64]\n', `meta/snap.yaml: "architectures" must be a non-empty list of architecture names such as amd64; ${rebuild}`],
];
for (const [what, text, problem] of bad) {
  test(`a snap.yaml with ${what} is refused with the rule and the fix`, () => {
    assert.equal(parseSnapYaml(text), problem);
  });
}

test('text that is not YAML is refused with the parser\'s first line', () => {
  const problem = parseSnapYaml('name: [hello\n');
  assert.equal(typeof problem, 'string');
  assert.match(problem as string, /^meta\/snap\.yaml is not valid YAML: [^\n]+; fix it in snapcraft\.yaml and rebuild the snap$/);
});

const names: [string, boolean][] = [
  ['hello', true], ['pc-kernel', true], ['0ad', true], ['a1', true], ['x'.repeat(40), true],
  ['a', false], ['x'.repeat(41), false], ['123', false], ['-hello', false], ['hello-', false], ['hel--lo', false], ['Hello', false], ['hel_lo', false],
];
test('the snap name rule is snapd\'s: 2 to 40 characters, a letter, single inner dashes', () => {
  assert.deepEqual(names.map(([n]) => [n, isValidSnapName(n)]), names);
});
