// Loop devices over sparse files in a temp dir: real block devices for flashing
// tests. Only devices created here are ever written.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';

/** Why loop-device tests cannot run here, or null when they can. */
export function loopSkipReason(): string | null {
  if (process.getuid?.() !== 0) return 'loop-device tests need root (losetup); run the tests as root';
  if (!existsSync('/dev/loop-control')) return 'no /dev/loop-control: this kernel or container has no loop devices';
  try {
    execFileSync('losetup', ['--version'], { stdio: 'ignore' });
  } catch {
    return 'losetup is not installed (util-linux / mount package)';
  }
  return null;
}

/** One attached loop device. */
export interface Loop {
  path: string;
  backing: string;
  size: number;
}

/** Attaches and always detaches loop devices for one test file. */
/** A loop device's first `length` bytes, read from its backing file (after a flash closed the device). */
export async function deviceBytes(loop: Loop, length = loop.size): Promise<Buffer> {
  const handle = await open(loop.backing, 'r');
  try {
    const buf = Buffer.alloc(length);
    await handle.read(buf, 0, length, 0);
    return buf;
  } finally {
    await handle.close();
  }
}

export class LoopDevices {
  private readonly attached: Loop[] = [];
  constructor(private readonly dir: string) {}

  /** A loop device over a new file of `size` bytes, filled with `fill` so unwritten bytes show. */
  async attach(name: string, size: number, options: { readOnly?: boolean; fill?: number; dir?: string } = {}): Promise<Loop> {
    const backing = join(options.dir ?? this.dir, name);
    const handle = await open(backing, 'w');
    try {
      await handle.truncate(size);
      if (options.fill !== undefined) {
        const block = Buffer.alloc(1 << 20, options.fill);
        for (let at = 0; at < size; at += block.length) await handle.write(block, 0, Math.min(block.length, size - at), at);
      }
    } finally {
      await handle.close();
    }
    const args = ['-f', '--show', ...(options.readOnly ? ['-r'] : []), backing];
    const path = execFileSync('losetup', args, { encoding: 'utf8' }).trim();
    const loop = { path, backing, size };
    this.attached.push(loop);
    return loop;
  }

  /** Takes over a loop device attached by hand, so it is detached with the others. */
  adopt(loop: Loop): void {
    if (!this.attached.includes(loop)) this.attached.push(loop);
  }

  /** Tells the kernel the backing file's size changed (`losetup -c`). */
  resize(loop: Loop): void {
    execFileSync('losetup', ['-c', loop.path]);
  }

  detachAll(): void {
    for (const loop of this.attached.splice(0)) {
      try {
        execFileSync('losetup', ['-d', loop.path], { stdio: 'ignore' });
      } catch {
        // already gone
      }
    }
  }
}
