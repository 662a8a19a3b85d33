/**
 * The line-oriented terminal console-conf draws on: shows one screen at a
 * time, reads lines with its own echo and editing, redraws on Ctrl-L. Works
 * the same on a VT, a serial line, a pty or plain pipes.
 */
import type { Readable, Writable } from 'node:stream';
import { LineDecoder } from './line-input.js';
import type { Screen } from './screen.js';
import type { Theme } from './themes.js';

/** Thrown by prompt() when the input stream ends. */
export class InputClosed extends Error {
  override readonly name = 'InputClosed';
}

/** Thrown by prompt() when its signal aborts it. */
export class PromptAborted extends Error {
  override readonly name = 'PromptAborted';
}

export interface TerminalIO {
  input: Readable;
  output: Writable;
  /** current size; 80x24 when unknown */
  size?: () => { columns: number; rows: number };
}

export class Terminal {
  private readonly decoder = new LineDecoder();
  private readonly lines: string[] = [];
  private buffer = '';
  private closed = false;
  private screen: Screen | undefined;
  private label = '';
  private waiter: { resolve(line: string): void; reject(err: Error): void } | undefined;
  private readonly onData = (chunk: Buffer | string) => this.handle(chunk);
  private readonly onEnd = () => {
    this.closed = true;
    this.waiter?.reject(new InputClosed('input closed'));
    this.waiter = undefined;
  };

  constructor(
    private readonly io: TerminalIO,
    readonly theme: Theme,
  ) {
    io.input.on('data', this.onData);
    io.input.on('end', this.onEnd);
    io.input.on('close', this.onEnd);
  }

  private size() {
    return this.io.size?.() ?? { columns: 80, rows: 24 };
  }

  /** Replaces what is on the terminal with `screen`. */
  show(screen: Screen): void {
    this.screen = screen;
    this.label = '';
    this.io.output.write(this.theme.render(screen, this.size().columns));
  }

  /** Writes extra lines below the current screen (progress notes). */
  note(text: string): void {
    this.io.output.write(text.split('\n').join('\r\n') + '\r\n');
  }

  /** Shows `label` and resolves with the next line typed (trimmed of line endings only). */
  prompt(label: string, signal?: AbortSignal): Promise<string> {
    this.label = label;
    const queued = this.lines.shift();
    this.io.output.write(this.theme.prompt(label) + (queued ?? this.buffer));
    if (queued !== undefined) {
      this.io.output.write('\r\n');
      return Promise.resolve(queued);
    }
    if (this.closed) return Promise.reject(new InputClosed('input closed'));
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        this.waiter = undefined;
        this.io.output.write('\r\n');
        reject(new PromptAborted('prompt aborted'));
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiter = {
        resolve: (l) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(l);
        },
        reject: (e) => {
          signal?.removeEventListener('abort', onAbort);
          reject(e);
        },
      };
    });
  }

  /** Draws the screen and the pending prompt again (Ctrl-L, or after noise on a serial line). */
  redraw(): void {
    if (this.screen) this.io.output.write(this.theme.render(this.screen, this.size().columns));
    if (this.waiter) this.io.output.write(this.theme.prompt(this.label) + this.buffer);
  }

  private handle(chunk: Buffer | string): void {
    for (const ev of this.decoder.feed(chunk)) {
      switch (ev.type) {
        case 'char':
          this.buffer += ev.ch;
          if (this.waiter) this.io.output.write(ev.ch);
          break;
        case 'erase':
          if (this.buffer.length > 0) {
            this.buffer = this.buffer.slice(0, -1);
            if (this.waiter) this.io.output.write('\b \b');
          }
          break;
        case 'kill':
          if (this.waiter) this.io.output.write('\b \b'.repeat(this.buffer.length));
          this.buffer = '';
          break;
        case 'redraw':
          this.redraw();
          break;
        case 'enter': {
          const line = this.buffer;
          this.buffer = '';
          const w = this.waiter;
          if (w) {
            this.waiter = undefined;
            this.io.output.write('\r\n');
            w.resolve(line);
          } else this.lines.push(line);
          break;
        }
      }
    }
  }

  /** Stops reading input. */
  dispose(): void {
    this.io.input.off('data', this.onData);
    this.io.input.off('end', this.onEnd);
    this.io.input.off('close', this.onEnd);
  }
}
