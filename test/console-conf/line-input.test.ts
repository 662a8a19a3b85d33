import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { LineDecoder } from '../../console-conf/tui/line-input.js';
import { InputClosed, PromptAborted, Terminal } from '../../console-conf/tui/terminal.js';
import { basicTheme, richTheme } from '../../console-conf/tui/themes.js';

const text = (evs: ReturnType<LineDecoder['feed']>) =>
  evs.map((e) => (e.type === 'char' ? e.ch : `<${e.type}>`)).join('');

test('CR, LF and CRLF each end exactly one line, even when CRLF is split across reads', () => {
  const d = new LineDecoder();
  assert.equal(text(d.feed('a\rb\nc\r\nd\r')), 'a<enter>b<enter>c<enter>d<enter>');
  assert.equal(text(d.feed('\ne\n\n')), 'e<enter><enter>');
});

test('backspace, DEL, Ctrl-U and Ctrl-L are editing keys and escape sequences are dropped', () => {
  const d = new LineDecoder();
  assert.equal(text(d.feed('ab\x7fc\x08\x15\x0c\x1b[A\x1b[1;5Cx\x1bOPy\x01')), 'ab<erase>c<erase><kill><redraw>xy');
});

function term(theme = basicTheme) {
  const input = new PassThrough();
  const output = new PassThrough();
  let out = '';
  output.on('data', (c: Buffer) => (out += c.toString()));
  return { t: new Terminal({ input, output }, theme), input, out: () => out };
}

test('a prompt returns the edited line and lines typed ahead are kept for the next prompt', async () => {
  const { t, input } = term();
  input.write('early\r');
  assert.equal(await t.prompt('A:'), 'early');
  const p = t.prompt('B:');
  input.write('helo\x7flo\r');
  assert.equal(await p, 'hello');
});

test('Ctrl-L draws the screen and the half-typed prompt again', async () => {
  const { t, input, out } = term();
  t.show({ title: 'Title', body: ['body'] });
  const p = t.prompt('Q:');
  input.write('ab\x0c');
  await new Promise((r) => setImmediate(r));
  assert.equal(out().split('Title').length - 1, 2);
  assert.ok(out().endsWith('Q: ab'));
  input.write('\r');
  assert.equal(await p, 'ab');
});

test('the end of input and an abort both end a pending prompt', async () => {
  const a = term();
  const ac = new AbortController();
  const p = a.t.prompt('Q:', ac.signal);
  ac.abort();
  await assert.rejects(p, PromptAborted);
  const b = term();
  const q = b.t.prompt('Q:');
  b.input.end();
  await assert.rejects(q, InputClosed);
});

test('the basic theme wraps to 78 columns in ASCII and the rich one draws a coloured box', () => {
  const screen = { title: 'T – x', body: ['word '.repeat(40)], problem: 'bad “thing”' };
  const basic = basicTheme.render(screen, 200);
  assert.doesNotMatch(basic, /[^\x00-\x7f]/);
  assert.ok(basic.split('\r\n').every((l) => l.length <= 78));
  assert.match(basic, /!! bad "thing"/);
  const rich = richTheme.render(screen, 80);
  assert.match(rich, /^\x1b\[H\x1b\[2J/);
  assert.match(rich, /┌─ T – x ─/);
});
