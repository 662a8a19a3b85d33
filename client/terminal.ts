import { openSync } from 'node:fs';
import { ReadStream, WriteStream } from 'node:tty';

/**
 * The controlling terminal as tty streams of their own, so prompts work even
 * when stdin/stdout are pipes; null when there is no terminal to prompt on.
 */
export function openTerminal(ttyPath = '/dev/tty'): { input: ReadStream; output: WriteStream } | null {
  try {
    return { input: new ReadStream(openSync(ttyPath, 'r')), output: new WriteStream(openSync(ttyPath, 'w')) };
  } catch {
    return null;
  }
}
