import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendEntry, checkHeaderValue, parseHeaders, type HeaderValue } from '../../../daemon/asserts/headers.js';
import { messageOf } from './helpers.js';

function encodeEntry(name: string, value: HeaderValue): string {
  const out: string[] = [];
  appendEntry(out, `${name}:`, value, 0);
  return out.join('').slice(1);
}

test('a one-line string is written after a space, the empty string with a trailing space', () => {
  assert.equal(encodeEntry('name', 'value'), 'name: value');
  assert.equal(encodeEntry('name', ''), 'name: ');
});

test('a multi-line string is written indented by 4 on the lines after its name', () => {
  assert.equal(encodeEntry('text', 'a\nb\n\nc'), 'text:\n    a\n    b\n    \n    c');
});

test('lists use "  -" items and nest 2 deeper; maps are sorted and empty ones omitted', () => {
  const value: HeaderValue = ['x', ['y', 'z'], { b: '1', a: ['p'], c: {}, d: [] }, 'multi\nline'];
  assert.equal(
    encodeEntry('l', value),
    ['l:', '  - x', '  -', '    - y', '    - z', '  -', '    a:', '      - p', '    b: 1', '  -', '      multi', '      line'].join('\n'),
  );
  assert.equal(encodeEntry('empty', []), '');
});

test('parsing gives back every encoded value exactly', () => {
  const values: Record<string, HeaderValue> = {
    one: 'v',
    empty: '',
    spaced: ' leading and trailing ',
    multi: 'a\n  b\n\nc\n',
    list: ['a', '', ['b', { k: 'v' }], 'x\ny'],
    map: { z: 'last', a: { nested: ['deep', 'er'] }, m: 'l1\nl2' },
  };
  const text = Object.entries(values)
    .map(([k, v]) => encodeEntry(k, v))
    .join('\n');
  assert.deepEqual(parseHeaders(text), values);
});

test('header values other than strings, lists and maps are rejected with snapd\'s text', () => {
  const cases: [unknown, string][] = [
    [16, 'header "x": header values must be strings or nested lists or maps with strings as the only scalars: 16'],
    [1.5, 'header "x": header values must be strings or nested lists or maps with strings as the only scalars: 1.5'],
    [1e21, 'header "x": header values must be strings or nested lists or maps with strings as the only scalars: 1e+21'],
    [true, 'header "x": header values must be strings or nested lists or maps with strings as the only scalars: true'],
    [null, 'header "x": header values must be strings or nested lists or maps with strings as the only scalars: <nil>'],
    [['a', [false]], 'header "x": header values must be strings or nested lists or maps with strings as the only scalars: false'],
    [{ k: { j: 7 } }, 'header "x": header values must be strings or nested lists or maps with strings as the only scalars: 7'],
  ];
  for (const [value, want] of cases) assert.equal(messageOf(() => checkHeaderValue('x', value)), want);
});

test('malformed header text is rejected with snapd\'s parse errors', () => {
  const cases: [string, string][] = [
    ['type model', `header entry missing ':' separator: "type model"`],
    ['Type: model', 'invalid header name: "Type"'],
    ['bad_name: x', 'invalid header name: "bad_name"'],
    ['-x: y', 'invalid header name: "-x"'],
    ['a--b: y', 'invalid header name: "a--b"'],
    ['type:model', 'header entry should have a space or newline (for multiline) before value: "type:model"'],
    ['a: 1\na: 2', 'repeated header: "a"'],
    ['text:\n   three', 'expected 4 chars nesting prefix after multiline introduction "text:": "   three"'],
    ['text:', 'expected 4 chars nesting prefix after multiline introduction "text:": EOF'],
    ['m:\n  k v', `map entry missing ':' separator: "k v"`],
    ['m:\n  K: v', 'invalid map entry key: "K"'],
    ['m:\n  k: 1\n  k: 2', 'repeated map entry: "k"'],
  ];
  for (const [text, want] of cases) assert.equal(messageOf(() => parseHeaders(text)), want, text);
});
