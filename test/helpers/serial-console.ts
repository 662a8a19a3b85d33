/**
 * A driver for a guest's serial console on the Unix socket qemu listens on
 * (`-chardev socket,...,server=on,wait=off`, as scripts/boot sets it up):
 * keeps the whole log on disk as it arrives, matches text with the firmware's
 * and systemd's escape sequences removed, types answers, and fails fast — with
 * the stage and the saved log in the message — as soon as the guest shows a
 * sign that the boot cannot go on, instead of waiting for a timeout.
 * Used by test/boot, the demo and bench/boot.ts.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { StringDecoder } from 'node:string_decoder';

/** A sign on the console that the boot has failed and will not recover. */
interface FatalSign {
  pattern: RegExp;
  what: string;
  /** Only meaningful before the kernel starts (grub's messages). */
  beforeKernel?: boolean;
}

/** Everything that ends a boot early: grub, the kernel, the sample initramfs, systemd. Patterns match the cleaned text. */
const fatalSigns: readonly FatalSign[] = [
  { pattern: /^grub> /m, what: "grub's command prompt (grub found no usable grub.cfg or menu entry)" },
  // grub prints its errors at the start of a line; later, kernel and systemd lines never start so
  { pattern: /^error: [^\n]*\n/m, what: 'a grub error', beforeKernel: true },
  { pattern: /Kernel panic - not syncing[^\n]*\n/, what: 'a kernel panic' },
  { pattern: /coreforge-initramfs: cannot boot: [^\n]*\n/, what: 'the initramfs gave up' },
  { pattern: /^\(initramfs\) /m, what: 'the initramfs shell' },
  { pattern: /You are in (?:emergency|rescue) mode[^\n]*/, what: "systemd's emergency or rescue shell" },
  { pattern: /Give root password for maintenance[^\n]*|Press Enter for maintenance[^\n]*/, what: "systemd's emergency or rescue shell" },
  { pattern: /Cannot open access to console, the root account is locked[^\n]*/, what: "systemd's emergency shell" },
];

/** The kernel's banner: from here on, grub's signs no longer apply. */
const kernelBanner = /Linux version \d/;

// CSI (ESC [ params intermediates final), OSC (ESC ] ... BEL or ST), charset
// selections (ESC ( B), and the two-byte escapes OVMF and getty use.
const escapeSequence = /\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[()*+][0-~]|[=>78cDEHMNOZ])/g;
// An escape sequence cut by the end of a chunk: kept back until the rest arrives.
const partialEscape = /\x1b(?:\[[0-?]*[ -/]*|\][^\x07\x1b]*|[()*+])?$/;

/** Removes terminal escape sequences and carriage returns, so patterns see only the text. */
export function cleanConsoleText(text: string): string {
  return text.replace(escapeSequence, '').replace(/\r/g, '').replace(/[\x00-\x08\x0b-\x1f\x7f]/g, '');
}

export interface ExpectOptions {
  /** What the boot is doing while this text is awaited, named in failures ("kernel and initramfs"). */
  stage: string;
  timeoutMs: number;
}

export type BootFailureKind = 'fatal-sign' | 'timeout' | 'console-closed';

/** A boot that stopped: which stage, why, and where the whole serial log is. */
export class BootFailure extends Error {
  constructor(
    message: string,
    readonly stage: string,
    readonly kind: BootFailureKind,
    readonly logPath: string,
    /** Seconds since qemu started. */
    readonly seconds: number,
    /** The console text that showed the failure, for fatal signs. */
    readonly evidence?: string,
  ) {
    super(message);
    this.name = 'BootFailure';
  }
}

export interface ConnectOptions {
  /** Where the raw console output is written as it arrives. */
  logPath: string;
  /** How long to wait for qemu to create the socket. */
  connectTimeoutMs?: number;
  /** Gives up waiting for the socket (qemu exited first). */
  signal?: AbortSignal;
  /** When qemu started (performance.now()), for the times in messages; defaults to now. */
  startedAt?: number;
  /** Says why the console closed (how qemu exited), for the failure message. */
  whyClosed?: () => Promise<string>;
}

interface Waiter {
  pattern: RegExp;
  options: ExpectOptions;
  resolve(m: RegExpExecArray): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout;
}

/** One guest's serial console. Create with SerialConsole.connect; close() when done. */
export class SerialConsole {
  private text = '';
  private pending = '';
  private cursor = 0;
  private signScanFrom = 0;
  private kernelAt = -1;
  private failure: { what: string; evidence: string } | undefined;
  private closed = false;
  private sent = '';
  private closedWhy = '';
  private waiter: Waiter | undefined;
  private readonly decoder = new StringDecoder('utf8');
  private readonly logFd: number;
  private readonly closedPromise: Promise<void>;

  private constructor(
    private readonly socket: Socket,
    readonly logPath: string,
    readonly startedAt: number,
    whyClosed: (() => Promise<string>) | undefined,
  ) {
    this.logFd = openSync(logPath, 'a', 0o644);
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    this.closedPromise = new Promise((resolve) => {
      socket.on('close', () => {
        this.flushDecoder();
        void (whyClosed?.() ?? Promise.resolve('qemu exited')).then((why) => {
          this.closed = true;
          this.closedWhy = why;
          if (this.waiter) this.settle(this.waiter, this.fail('console-closed', this.waiter.options.stage, `the serial console closed: ${why}`));
          resolve();
        });
      });
    });
    socket.on('error', () => {}); // a reset is a close: reported through 'close'
  }

  /** Connects to qemu's serial socket, retrying until qemu has created it. */
  static async connect(socketPath: string, options: ConnectOptions): Promise<SerialConsole> {
    const startedAt = options.startedAt ?? performance.now();
    const deadline = Date.now() + (options.connectTimeoutMs ?? 30_000);
    for (;;) {
      options.signal?.throwIfAborted();
      try {
        const socket = await new Promise<Socket>((resolve, reject) => {
          const s = connect(socketPath);
          s.once('connect', () => resolve(s));
          s.once('error', reject);
        });
        return new SerialConsole(socket, options.logPath, startedAt, options.whyClosed);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if ((code !== 'ENOENT' && code !== 'ECONNREFUSED') || Date.now() > deadline) {
          throw new Error(`cannot connect to the serial console ${socketPath}: ${(err as Error).message}; check that qemu runs with -chardev socket,path=${socketPath},server=on`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  /** Seconds since qemu started. */
  elapsed(): number {
    return (performance.now() - this.startedAt) / 1000;
  }

  /** The whole console output so far, escape sequences removed. */
  output(): string {
    return this.text;
  }

  /**
   * Waits for PATTERN in the output after the previous match, and returns its
   * match. Rejects with a BootFailure naming STAGE and the log on a fatal sign
   * (seen before or while waiting), on timeout, or when the console closes.
   */
  expect(pattern: RegExp, options: ExpectOptions): Promise<RegExpExecArray> {
    if (this.waiter) throw new Error(`cannot wait for ${pattern} while still waiting for ${this.waiter.pattern}`);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.settle(waiter, this.fail('timeout', options.stage, `no ${pattern} on the console within ${Math.round(options.timeoutMs / 1000)} s`));
      }, options.timeoutMs);
      const waiter: Waiter = { pattern, options, resolve, reject, timer };
      this.waiter = waiter;
      this.check();
      if (this.waiter === waiter && this.closed) this.settle(waiter, this.fail('console-closed', options.stage, `the serial console closed: ${this.closedWhy}`));
    });
  }

  /** Types TEXT on the console; "\r" is Enter. */
  send(text: string): void {
    this.sent += text;
    this.socket.write(text);
  }

  /** Everything send() typed so far (an unattended boot must type nothing). */
  typed(): string {
    return this.sent;
  }

  /** Resolves when qemu closes the console (it exited). */
  whenClosed(): Promise<void> {
    return this.closedPromise;
  }

  /** Disconnects and closes the log file; the log stays. */
  async close(): Promise<void> {
    if (!this.closed) {
      this.socket.destroy();
      await this.closedPromise;
    }
    if (this.waiter) this.settle(this.waiter, this.fail('console-closed', this.waiter.options.stage, 'the console was closed by the caller'));
    try {
      closeSync(this.logFd);
    } catch {
      // closed already
    }
  }

  private receive(chunk: Buffer): void {
    writeSync(this.logFd, chunk);
    this.append(this.decoder.write(chunk));
  }

  private flushDecoder(): void {
    this.append(this.decoder.end());
    if (this.pending) {
      this.text += cleanConsoleText(this.pending);
      this.pending = '';
    }
    this.check();
  }

  private append(decoded: string): void {
    let raw = this.pending + decoded;
    // (a sequence that never ends, e.g. noise on the line, is let through after 64 characters)
    const cut = partialEscape.exec(raw);
    if (cut && raw.length - cut.index <= 64) {
      this.pending = raw.slice(cut.index);
      raw = raw.slice(0, cut.index);
    } else {
      this.pending = '';
    }
    this.text += cleanConsoleText(raw);
    this.check();
  }

  /** Looks for fatal signs in the new text, then for the awaited pattern. */
  private check(): void {
    if (this.kernelAt < 0) {
      const k = kernelBanner.exec(this.text.slice(this.signScanFrom));
      if (k) this.kernelAt = this.signScanFrom + k.index;
    }
    if (!this.failure) {
      const from = this.signScanFrom;
      const region = this.text.slice(from);
      for (const sign of fatalSigns) {
        const m = sign.pattern.exec(region);
        if (!m) continue;
        if (sign.beforeKernel && this.kernelAt >= 0 && from + m.index > this.kernelAt) continue;
        this.failure = { what: sign.what, evidence: m[0].trim() };
        break;
      }
      // Signs span at most one line: the next scan starts at the last incomplete line.
      this.signScanFrom = this.text.lastIndexOf('\n') + 1;
    }
    const w = this.waiter;
    if (!w) return;
    if (this.failure) {
      const { what, evidence } = this.failure;
      this.settle(w, this.fail('fatal-sign', w.options.stage, `${what}: "${evidence}"`, evidence));
      return;
    }
    const m = new RegExp(w.pattern.source, w.pattern.flags.replace(/[gy]/g, '')).exec(this.text.slice(this.cursor));
    if (m) {
      m.index += this.cursor;
      this.cursor = m.index + m[0].length;
      this.waiter = undefined;
      clearTimeout(w.timer);
      w.resolve(m);
    }
  }

  private settle(w: Waiter, err: BootFailure): void {
    if (this.waiter !== w) return;
    this.waiter = undefined;
    clearTimeout(w.timer);
    w.reject(err);
  }

  /** A BootFailure for STAGE at this moment; fatal signs quote their line, the others show the console's last lines. */
  fail(kind: BootFailureKind, stage: string, why: string, evidence?: string): BootFailure {
    const seconds = this.elapsed();
    const tail = kind === 'fatal-sign' ? '' : `; the console's last lines:\n${lastLines(this.text, 12)}\n`;
    return new BootFailure(
      `boot failed at stage "${stage}" after ${seconds.toFixed(1)} s: ${why}; the whole serial log is in ${this.logPath}${tail}`,
      stage,
      kind,
      this.logPath,
      seconds,
      evidence,
    );
  }
}

function lastLines(text: string, n: number): string {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .slice(-n)
    .map((l) => `  | ${l}`)
    .join('\n');
}
