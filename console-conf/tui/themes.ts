/**
 * Two renderings of one screen model: rich (VT: colour, box drawing) and
 * basic (serial: 7-bit ASCII, no escape sequences at all, fits 80x24).
 */
import { wrap, type Screen } from './screen.js';

export interface Theme {
  name: 'rich' | 'basic';
  /** text of the whole screen, lines joined with CRLF, ready to write */
  render(screen: Screen, columns: number): string;
  /** the prompt label as shown before the input */
  prompt(label: string): string;
}

const CSI = '\x1b[';
const NL = '\r\n';

/** The VT theme: clears the screen and draws a box with a coloured title. */
export const richTheme: Theme = {
  name: 'rich',
  render(screen, columns) {
    const width = Math.max(40, Math.min(columns, 100)) - 2;
    const inner = width - 2;
    const title = ` ${screen.title} `;
    const lines: string[] = [];
    lines.push(`${CSI}1;38;5;208m┌─${title}${'─'.repeat(Math.max(0, width - title.length - 3))}┐${CSI}0m`);
    const row = (text: string, style = '') => `${CSI}38;5;208m│${CSI}0m ${style}${text.padEnd(inner - 1)}${style ? CSI + '0m' : ''}${CSI}38;5;208m│${CSI}0m`;
    lines.push(row(''));
    for (const para of screen.body) for (const l of wrap(para, inner - 2)) lines.push(row(l));
    if (screen.problem) {
      lines.push(row(''));
      for (const l of wrap(screen.problem, inner - 2)) lines.push(row(l, `${CSI}1;31m`));
    }
    lines.push(row(''));
    lines.push(`${CSI}38;5;208m└${'─'.repeat(width - 2)}┘${CSI}0m`);
    return `${CSI}H${CSI}2J` + lines.join(NL) + NL;
  },
  prompt: (label) => `${CSI}1m${label}${CSI}0m `,
};

/** The serial theme: plain ASCII, no escapes, never wider than 78 columns. */
export const basicTheme: Theme = {
  name: 'basic',
  render(screen, columns) {
    const width = Math.max(40, Math.min(columns, 80)) - 2;
    const lines: string[] = ['', '='.repeat(width), ascii(screen.title), '='.repeat(width)];
    for (const para of screen.body) for (const l of wrap(ascii(para), width)) lines.push(l);
    if (screen.problem) {
      lines.push('');
      for (const l of wrap('!! ' + ascii(screen.problem), width)) lines.push(l);
    }
    lines.push('-'.repeat(width));
    return lines.join(NL) + NL;
  },
  prompt: (label) => `${ascii(label)} `,
};

/** Replaces anything outside printable ASCII, so serial consoles never see UTF-8 or escapes. */
export function ascii(text: string): string {
  return text
    .replace(/[‘’]/g, "'")
    .replace(/[“”]/g, '"')
    .replace(/[–—]/g, '-')
    .replace(/…/g, '...')
    .replace(/[^\x20-\x7e]/g, '?');
}
