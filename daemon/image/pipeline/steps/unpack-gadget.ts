import { mkdir, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { isCoreforgeError } from '../../../errors.js';
import { isKernelRef, parseKernelRef, type Gadget } from '../../gadget/index.js';
import type { Exec } from '../exec.js';
import { loadGadgetYaml, readGadget } from './gadget-tree.js';
import { need, type BuildStep } from './step.js';

/** Unpacks a snap into `dir`: all of it, or only `paths` (and what their symlinks need; missing ones are skipped). */
async function unsquash(exec: Exec, snap: string, dir: string, signal?: AbortSignal, paths?: string[]): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(join(dir, '..'), { recursive: true });
  const args = paths === undefined ? [snap] : ['-follow', snap, ...paths];
  await exec('unsquashfs', ['-n', '-no-xattrs', '-d', dir, ...args], { signal, what: `unpack ${basename(snap)}` });
}

/**
 * The parts of the kernel snap a build reads: its metadata, the `$kernel:`
 * content the gadget refers to and the u-boot boot assets. A real kernel
 * snap is mostly modules and firmware that the image only carries inside the
 * snap file, so they are not unpacked. Undefined: unpack everything.
 */
function kernelPaths(gadget: Gadget): string[] | undefined {
  const paths = new Set(['meta', 'kernel.img', 'initrd.img', 'dtbs']);
  for (const v of gadget.volumes) {
    for (const s of v.structures) {
      for (const c of s.content) {
        if (c.kind !== 'file' || !isKernelRef(c.source)) continue;
        const ref = parseKernelRef(c.source);
        if (typeof ref === 'string') continue;
        const path = ref.content.replace(/^\/+|\/+$/g, '');
        if (path === '' || path === '.' || path.startsWith('-')) return undefined;
        paths.add(path);
      }
    }
  }
  return [...paths];
}

/** Unpacks the gadget, and the parts of the kernel its content refers to; checks the gadget's content. */
export const unpackGadget: BuildStep = {
  name: 'unpack-gadget',
  async run(ctx) {
    const seed = need(ctx.state.seed, 'snap set');
    const gadget = seed.find((s) => s.sourced.info.type === 'gadget')!;
    const kernel = seed.find((s) => s.sourced.info.type === 'kernel')!;
    await unsquash(ctx.env.exec, gadget.sourced.path, ctx.dirs.unpackGadget, ctx.env.signal);
    let paths = kernelPaths(await loadGadgetYaml(ctx));
    try {
      await unsquash(ctx.env.exec, kernel.sourced.path, ctx.dirs.unpackKernel, ctx.env.signal, paths);
    } catch (err) {
      // unsquashfs before 4.5 has no -follow: unpack it all.
      if (paths === undefined || ctx.env.signal?.aborted) throw err;
      paths = undefined;
      await unsquash(ctx.env.exec, kernel.sourced.path, ctx.dirs.unpackKernel, ctx.env.signal);
    }
    try {
      await readGadget(ctx);
    } catch (err) {
      // A symlink inside the unpacked kernel content may point at a part left packed: unpack it all and check again.
      if (paths === undefined || !isCoreforgeError(err) || err.kind !== 'invalid-gadget-content') throw err;
      await unsquash(ctx.env.exec, kernel.sourced.path, ctx.dirs.unpackKernel, ctx.env.signal);
      await readGadget(ctx);
    }
  },
};
