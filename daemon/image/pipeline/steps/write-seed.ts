import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeSeed16, writeSeed20, type SeedSnap } from '../seed.js';
import { readGadget } from './gadget-tree.js';
import { fresh, need, verified, type BuildStep } from './step.js';

/** Puts the console-conf first-boot file (it may name accounts and network secrets) into `dir`, readable by root only. */
async function writeFirstBoot(dir: string, text: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'first-boot.yaml'), text, { mode: 0o600 });
  await chmod(join(dir, 'first-boot.yaml'), 0o600);
}

/** Writes the seed: a UC20+ recovery system on ubuntu-seed, or the UC16/18 system-data tree with the boot files. */
export const writeSeed: BuildStep = {
  name: 'write-seed',
  async run(ctx) {
    const v = verified(ctx);
    const m = need(ctx.state.model, 'verified model');
    const { gadget } = await readGadget(ctx);
    const bootloader = gadget.volumes.find((vol) => vol.bootloader !== '')?.bootloader ?? '';
    const input = { model: v, snaps: need(ctx.state.seed, 'snap set') as SeedSnap[], bootloader, gadgetDir: ctx.dirs.unpackGadget, kernelDir: ctx.dirs.unpackKernel };
    if (m.uc20) {
      await fresh(ctx.dirs.seed);
      const label = new Date(m.epoch * 1000).toISOString().slice(0, 10).replace(/-/g, '');
      const seedFs = gadget.volumes.flatMap((vol) => vol.structures).find((s) => s.role === 'system-seed')?.filesystem ?? '';
      await writeSeed20(input, ctx.dirs.seed, label, { linkSnaps: seedFs.startsWith('vfat') });
      if (ctx.params.firstBoot !== undefined) {
        // UC20+ images have no system-data: the file goes on ubuntu-seed, which the device mounts at
        // /run/mnt/ubuntu-seed and, in run mode, binds at /var/lib/snapd/seed; console-conf looks there.
        // (ubuntu-seed is vfat: the mode only guards the copy in the work dir.)
        await writeFirstBoot(join(ctx.dirs.seed, 'coreforge'), ctx.params.firstBoot);
      }
      ctx.state.label = label;
      return;
    }
    // ubuntu-image puts the prepared image under system-data/ of the writable partition (UC16/18).
    await fresh(ctx.dirs.rootfs);
    await fresh(ctx.dirs.boot);
    const systemData = join(ctx.dirs.rootfs, 'system-data');
    await writeSeed16(input, systemData, ctx.dirs.boot);
    const defaults = join(systemData, '_writable_defaults/var/lib/console-conf');
    if (ctx.params.disableConsoleConf) {
      await mkdir(defaults, { recursive: true });
      await writeFile(join(defaults, 'complete'), '');
    }
    if (ctx.params.firstBoot !== undefined) await writeFirstBoot(defaults, ctx.params.firstBoot);
    if (ctx.params.cloudInit !== undefined) {
      const dir = join(systemData, 'var/lib/cloud/seed/nocloud-net');
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, 'meta-data'), 'instance-id: nocloud-static\n');
      await writeFile(join(dir, 'user-data'), ctx.params.cloudInit);
    }
  },
};
