/**
 * A byte-level line decoder for raw terminals: CR, LF and CRLF all end a line
 * (serial consoles send any of them), backspace/DEL erase, Ctrl-U kills the
 * line, Ctrl-L asks for a redraw, escape sequences (arrow keys...) are dropped.
 */
export type InputEvent = { type: 'char'; ch: string } | { type: 'erase' } | { type: 'kill' } | { type: 'enter' } | { type: 'redraw' };

/** Stateful decoder: feed it chunks, get events. */
export class LineDecoder {
  private lastWasCR = false;
  private esc: 'none' | 'esc' | 'csi' | 'ss3' = 'none';

  /** Decodes one chunk of input bytes. */
  feed(chunk: Uint8Array | string): InputEvent[] {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk;
    const out: InputEvent[] = [];
    for (const b of bytes) {
      const wasCR = this.lastWasCR;
      this.lastWasCR = false;
      if (this.esc === 'esc') {
        this.esc = b === 0x5b ? 'csi' : b === 0x4f ? 'ss3' : 'none';
        continue;
      }
      if (this.esc === 'csi') {
        if (b >= 0x40 && b <= 0x7e) this.esc = 'none';
        continue;
      }
      if (this.esc === 'ss3') {
        this.esc = 'none';
        continue;
      }
      if (b === 0x1b) this.esc = 'esc';
      else if (b === 0x0d) {
        this.lastWasCR = true;
        out.push({ type: 'enter' });
      } else if (b === 0x0a) {
        if (!wasCR) out.push({ type: 'enter' });
      } else if (b === 0x7f || b === 0x08) out.push({ type: 'erase' });
      else if (b === 0x15) out.push({ type: 'kill' });
      else if (b === 0x0c) out.push({ type: 'redraw' });
      else if (b >= 0x20 && b <= 0x7e) out.push({ type: 'char', ch: String.fromCharCode(b) });
    }
    return out;
  }
}
