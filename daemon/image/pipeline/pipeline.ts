import { createHash } from 'node:crypto';
import { fstatSync, fsyncSync, writeSync } from 'node:fs';
import { chmod, copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { openInput, readInput, type OutputFile } from '../../caller/files.js';
import { fsConstants, linkAt } from '../../caller/native.js';
import { checkChain, decodeAssertion, type ModelInfo } from '../../asserts/index.js';
import { isCoreforgeError } from '../../errors.js';
import { bmapForImage } from '../bmap-file.js';
import { blockRangeBytes, toBlockRanges } from '../bmap-ranges.js';
import { rangesBytes } from '../../flash/ranges.js';
import { imageError } from '../errors.js';
import { checkGadgetContent, readSnapFile, type ResolvedFile, type ResolvedImage } from '../gadget/content-check.js';
import { isKernelRef, layoutGadget, loadGadget, parseKernelRef, type Gadget, type VolumeLayout } from '../gadget/index.js';
import { alignUp, iecString, MiB } from '../gadget/quantity.js';
import type { Exec } from './exec.js';
import { treeBytes } from './filesystems.js';
import { LocalSnapSource, unassertedSnapSha256 } from './local-snaps.js';
import { verifyModel, type ModelLookups, type VerifiedModel } from './model.js';
import { buildFingerprint, buildStepNames, volumeImageName, type BuildArtifact, type BuildParams, type BuildStepName } from './params.js';
import { resolveSeedSnaps } from './resolve.js';
import { checkSeedSnaps, unassertedWarning } from './snap-checks.js';
import { seedManifest, writeSeed16, writeSeed20, type SeedSnap } from './seed.js';
import type { StoreSnapFinder } from './snap-source.js';
import { fetchStoreSnaps, lookupsWith } from './store-snaps.js';
import { stageContent } from './stage.js';
import { fixedPlaces, type BuildPlaces } from './places.js';
import { daemonCaller } from '../../caller/caller.js';
import { loadState, saveState, type BuildState } from './state.js';
import { buildVolume, writeError } from './volume.js';

/**
 * The image build as an ordered list of named steps (ubuntu-image's state
 * machine). The plan is known up front; after each step its findings are
 * saved in the work dir, so a resumed build continues after the last
 * finished step, and every step is a point to stop and resume at.
 */

/** Side effects a build reaches through its caller. */
export interface BuildEnv {
  exec: Exec;
  lookups: ModelLookups;
  signal?: AbortSignal;
  progress(phase: string, bytes: number, total: number): void;
  log(level: 'info' | 'warn', message: string): void;
  /** The configured store for a device architecture: snaps no local file provides come from it. */
  store?(architecture: string): StoreSnapFinder;
}

interface StepContext {
  params: BuildParams;
  env: BuildEnv;
  state: BuildState;
  places: BuildPlaces;
  dirs: WorkDirs;
}

interface WorkDirs {
  inputs: string;
  unpackGadget: string;
  unpackKernel: string;
  rootfs: string;
  boot: string;
  seed: string;
  stage: string;
}

export interface BuildStep {
  name: BuildStepName;
  run(ctx: StepContext): Promise<void>;
}

function workDirs(workDir: string): WorkDirs {
  return {
    inputs: join(workDir, 'inputs'),
    unpackGadget: join(workDir, 'unpack/gadget'),
    unpackKernel: join(workDir, 'unpack/kernel'),
    rootfs: join(workDir, 'rootfs'),
    boot: join(workDir, 'boot'),
    seed: join(workDir, 'ubuntu-seed'),
    stage: join(workDir, 'stage'),
  };
}

async function fresh(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
}

function need<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw imageError('invalid-workdir', `cannot continue the build: the work directory has no ${what}; start again without --resume`);
  return value;
}

/** Re-decodes the verified model from the params and the saved prerequisites (steps after verify-model). */
function verified(ctx: StepContext): VerifiedModel {
  const m = need(ctx.state.model, 'verified model');
  const assertion = decodeAssertion(ctx.params.model);
  return {
    assertion,
    info: assertion.info as ModelInfo,
    text: ctx.params.model.endsWith('\n') ? ctx.params.model : `${ctx.params.model}\n`,
    prerequisites: m.prerequisites.map((t) => decodeAssertion(t)),
  };
}

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

/** Loads and validates the unpacked gadget's meta/gadget.yaml. */
async function loadGadgetYaml(ctx: StepContext): Promise<Gadget> {
  const m = need(ctx.state.model, 'verified model');
  const gadgetSnap = need(ctx.state.seed, 'snap set').find((s) => s.sourced.info.type === 'gadget')!;
  let text: string;
  try {
    text = (await readSnapFile(ctx.dirs.unpackGadget, 'meta/gadget.yaml', 'gadget')).toString('utf8');
  } catch (err) {
    if (isCoreforgeError(err)) throw err;
    throw imageError(
      'invalid-gadget',
      `cannot read meta/gadget.yaml of gadget snap ${basename(gadgetSnap.sourced.origin ?? gadgetSnap.sourced.path)}: the file is missing; a gadget snap must ship meta/gadget.yaml describing its volumes`,
    );
  }
  return loadGadget(text, { model: { uc20: m.uc20, classic: false } });
}

async function readGadget(ctx: StepContext): Promise<{ gadget: Gadget; images: Map<string, ResolvedImage[]>; files: Map<string, ResolvedFile[]> }> {
  const gadget = await loadGadgetYaml(ctx);
  const checked = await checkGadgetContent(gadget, { gadgetDir: ctx.dirs.unpackGadget, kernelDir: ctx.dirs.unpackKernel });
  const images = new Map<string, ResolvedImage[]>();
  const files = new Map<string, ResolvedFile[]>();
  for (const c of checked) {
    images.set(`${c.volume}/${c.yamlIndex}`, c.images);
    files.set(`${c.volume}/${c.yamlIndex}`, c.files);
  }
  return { gadget, images, files };
}

function stageDir(ctx: StepContext, volume: string, yamlIndex: number): string {
  return join(ctx.dirs.stage, volume, String(yamlIndex));
}

/** Lays the gadget out: UC16/18 system-data sized from the root filesystem tree, requested image sizes honoured or grown with a warning. */
async function layout(ctx: StepContext, gadget: Gadget): Promise<VolumeLayout[]> {
  const m = need(ctx.state.model, 'verified model');
  const systemDataSize = m.uc20 ? undefined : Math.max(32 * MiB, alignUp(Math.ceil((await treeBytes(ctx.dirs.rootfs)) * 1.5) + 8 * MiB, MiB));
  const base = { sectorSize: ctx.params.sectorSize, ...(systemDataSize ? { systemDataSize } : {}) };
  const minimal = layoutGadget(gadget, base);
  const requested = ctx.params.imageSize;
  if (requested === undefined) return minimal;
  const sizes: Record<string, number> = {};
  for (const v of minimal) {
    const want = typeof requested === 'number' ? requested : requested[v.name];
    if (want === undefined) continue;
    if (want < v.size) {
      const warning = `WARNING: image size ${want} (${iecString(want)}) for volume "${v.name}" is smaller than the minimum of ${v.size} bytes (${iecString(v.size)}); the image is grown to that size`;
      if (!ctx.state.warnings.includes(warning)) ctx.state.warnings.push(warning);
      ctx.env.log('warn', warning);
      continue;
    }
    sizes[v.name] = want;
  }
  return layoutGadget(gadget, { ...base, imageSize: sizes });
}

/** The seed for GUIDs and UUIDs: the model and the snaps' digests (an unasserted snap's cheap identity), so equal inputs give equal images. */
function buildSeed(ctx: StepContext): string {
  const digests = need(ctx.state.seed, 'snap set').map((s) => `${s.sourced.info.name}=${s.sourced.sha3_384 || `${s.sourced.info.version}:${s.sourced.identity ?? ''}`}`);
  return createHash('sha256').update(ctx.params.model).update(digests.join(',')).digest('hex');
}

/** The build's own error for an output directory the caller may not write to. */
export function outputDirError(err: unknown, dir: string): Error {
  const code = isCoreforgeError(err) ? (err.details?.code as string | undefined) : (err as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC') return imageError('no-space', `cannot use output directory ${dir}: no space left on device; free space or choose another directory`);
  if (isCoreforgeError(err) && (err.kind === 'permission-denied' || err.kind === 'not-a-regular-file')) {
    return imageError('output-not-writable', `cannot use output directory ${dir}: it is not writable (${code ?? err.kind}); choose a directory you can write to with -O`);
  }
  return err as Error;
}

/** Starts an output file: created as the caller under a temporary name, and recorded in the state at once, so a failure or a crash can remove it. */
async function newOutput(ctx: StepContext, name: string): Promise<OutputFile> {
  const earlier = ctx.state.outputs.findIndex((o) => o.name === name);
  if (earlier >= 0) {
    ctx.places.output.discard(ctx.state.outputs[earlier]!.temp);
    ctx.state.outputs.splice(earlier, 1);
  }
  const file = ctx.places.output.create(name);
  ctx.state.outputs.push({ name, temp: file.temp });
  await saveState(ctx.places.stateFile, ctx.state);
  return file;
}

/** An output file an earlier step started. */
function outputFile(ctx: StepContext, name: string): OutputFile {
  const o = ctx.state.outputs.find((x) => x.name === name);
  const file = o && ctx.places.output.reopen(o.name, o.temp);
  if (!file) throw imageError('invalid-workdir', `cannot finish the build: ${name} in ${ctx.params.outputDir} is no longer being written (its temporary file is gone); start again without --resume`);
  return file;
}

/** Writes a small output (bmap, manifest, build.json) into a new temporary output file, flushed to disk. */
async function writeOutputText(ctx: StepContext, name: string, text: string): Promise<{ size: number; sha256: string }> {
  const file = await newOutput(ctx, name);
  const data = Buffer.from(text);
  try {
    for (let at = 0; at < data.length; ) at += writeSync(file.fd, data, at, data.length - at, at);
    fsyncSync(file.fd);
  } catch (err) {
    throw writeError(err, `write ${join(ctx.params.outputDir, name)}`);
  } finally {
    file.close();
  }
  return { size: data.length, sha256: createHash('sha256').update(data).digest('hex') };
}

/** Flushes a written image to disk. */
function syncFile(file: OutputFile, what: string): void {
  try {
    fsyncSync(file.fd);
  } catch (err) {
    throw writeError(err, what);
  }
}

/**
 * Takes the local snap files (and the .assert beside each) into the work
 * dir: each opened with the caller's rights, then hard-linked (or copied)
 * from the opened file, so the build reads what the caller could read and
 * nothing the caller renames or links afterwards.
 */
async function takeInputs(ctx: StepContext): Promise<{ origin: string; path: string }[]> {
  await rm(ctx.dirs.inputs, { recursive: true, force: true });
  const out: { origin: string; path: string }[] = [];
  for (const [i, origin] of ctx.params.snaps.entries()) {
    if (!origin.endsWith('.snap')) throw imageError('invalid-snap', `cannot use snap file ${origin}: local snaps must end in .snap`);
    const dir = join(ctx.dirs.inputs, String(i));
    await mkdir(dir, { recursive: true });
    const path = join(dir, basename(origin));
    let file;
    try {
      file = openInput(ctx.places.caller, origin, 'snap file');
    } catch (err) {
      if (isCoreforgeError(err) && err.kind === 'file-not-found') throw imageError('invalid-snap', `cannot use snap file ${origin}: it does not exist; check the --snap path`);
      throw err;
    }
    try {
      try {
        linkAt(fsConstants.AT_FDCWD, `/proc/self/fd/${file.fd}`, fsConstants.AT_FDCWD, path, fsConstants.AT_SYMLINK_FOLLOW);
      } catch {
        // another filesystem (EXDEV) or one that refuses links: a copy of the same open file
        await copyFile(file.path, path);
      }
    } finally {
      file.close();
    }
    const assertOrigin = origin.replace(/\.snap$/, '.assert');
    let assertText: Buffer | undefined;
    try {
      assertText = readInput(ctx.places.caller, assertOrigin, 'assertion file', 16 * MiB);
    } catch (err) {
      if (!isCoreforgeError(err) || err.kind !== 'file-not-found') throw err;
    }
    if (assertText !== undefined) await writeFile(path.replace(/\.snap$/, '.assert'), assertText);
    out.push({ origin, path });
  }
  return out;
}

/** Puts the console-conf first-boot file (it may name accounts and network secrets) into `dir`, readable by root only. */
async function writeFirstBoot(dir: string, text: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'first-boot.yaml'), text, { mode: 0o600 });
  await chmod(join(dir, 'first-boot.yaml'), 0o600);
}

export const buildSteps: BuildStep[] = [
  {
    name: 'prepare',
    async run(ctx) {
      // Fails now, not after the build, when the caller may not create files in the output directory.
      let probe: OutputFile;
      try {
        probe = ctx.places.output.create('.coreforge-probe');
      } catch (err) {
        throw outputDirError(err, ctx.params.outputDir);
      }
      probe.close();
      ctx.places.output.discard(probe.temp);
      ctx.state.inputs = await takeInputs(ctx);
    },
  },
  {
    name: 'verify-model',
    async run(ctx) {
      const v = await verifyModel(ctx.params.model, ctx.params.modelSource, ctx.env.lookups);
      const enforced = v.info.validationSets.filter((s) => s.mode === 'enforce');
      if (enforced.length > 0 && ctx.params.validation === 'ignore') {
        throw imageError('invalid-snap-set', `model requires validation-set "${enforced[0]!.name}" to be enforced, but validation is set to ignore`);
      }
      ctx.state.model = {
        name: v.info.model,
        brand: v.info.brandId,
        grade: v.info.grade,
        uc20: v.info.grade !== 'unset',
        architecture: v.info.architecture,
        base: v.info.base,
        prerequisites: v.prerequisites.map((a) => `${Buffer.from(a.content).toString('utf8')}\n\n${a.signature}\n`),
        epoch: Math.floor(v.info.timestamp.getTime() / 1000),
      };
      if (ctx.state.model.uc20) {
        // snapd's Customizations.validate (image_linux.go), word for word: UC20+ images have no
        // system-data to carry these. (--first-boot is coreforge's own and goes to ubuntu-seed.)
        const unsupported = [
          ...(ctx.params.disableConsoleConf ? [['console-conf disable', '--disable-console-conf']] : []),
          ...(ctx.params.cloudInit !== undefined ? [['cloud-init user-data', '--cloud-init']] : []),
        ];
        if (unsupported.length > 0) {
          throw imageError(
            'invalid-snap-set',
            `cannot support with UC20+ model requested customizations: ${unsupported.map(([what]) => what).join(', ')}; ` +
              `snapd does not support ${unsupported.map(([, flag]) => flag).join(' or ')} for UC20+ images (model "${v.info.model}" has grade ${v.info.grade}): ` +
              `leave ${unsupported.length === 1 ? 'it' : 'them'} out` +
              (ctx.params.cloudInit !== undefined ? ' (for cloud-init on UC20+, ship its config as cloud.conf in the gadget snap)' : ''),
          );
        }
      }
    },
  },
  {
    name: 'read-snaps',
    async run(ctx) {
      const source = await LocalSnapSource.inspect(need(ctx.state.inputs, 'snap files'), ctx.env.exec, ctx.env.signal);
      ctx.state.sourced = source.snaps;
    },
  },
  {
    name: 'resolve-snaps',
    async run(ctx) {
      const v = verified(ctx);
      const sourced = [...need(ctx.state.sourced, 'snap files')];
      const plan = resolveSeedSnaps(v.info, {
        channel: ctx.params.channel,
        snaps: [
          ...sourced.map((s) => ({ name: s.info.name, channel: '', unasserted: s.snapId === '' })),
          ...(ctx.params.storeSnaps ?? []).map((o) => ({ name: o.name, channel: o.channel, unasserted: false })),
        ],
      });
      const byName = new Map(sourced.map((s) => [s.info.name, s]));
      const revisions = ctx.params.revisions ?? {};
      for (const name of Object.keys(revisions)) {
        if (byName.has(name)) throw imageError('invalid-snap-set', `cannot use --revision ${name}:${revisions[name]}: snap "${name}" is a local file; leave out --revision or the local --snap`);
        if (!plan.snaps.some((p) => p.name === name)) throw imageError('invalid-snap-set', `cannot use --revision ${name}:${revisions[name]}: snap "${name}" is not in the model nor asked for with --snap; add --snap ${name} or drop the revision`);
        // ubuntu-image's warning for each pinned revision, word for word
        const warning = `WARNING: revision ${revisions[name]} for snap ${name} may not be the latest available version!`;
        if (!ctx.state.warnings.includes(warning)) {
          ctx.state.warnings.push(warning);
          ctx.env.log('warn', warning);
        }
      }
      const fromStore = await fetchStoreSnaps({
        model: v.info.model,
        planned: plan.snaps.filter((p) => !byName.has(p.name)),
        revisions,
        inSeed: need(ctx.state.model, 'verified model').prerequisites,
        store: ctx.env.store?.(v.info.architecture),
        ...(ctx.env.signal ? { signal: ctx.env.signal } : {}),
        progress: (phase, bytes, total) => ctx.env.progress(phase, bytes, total),
        log: (level, message) => ctx.env.log(level, message),
      });
      for (const s of fromStore) {
        sourced.push(s);
        byName.set(s.info.name, s);
      }
      const lookups = lookupsWith(ctx.env.lookups, fromStore.flatMap((s) => s.assertions));
      checkSeedSnaps(v.info, plan.snaps, new Map(sourced.map((s) => [s.info.name, s.info])));
      for (const p of plan.snaps) {
        const s = byName.get(p.name)!;
        if (p.snapId !== '' && s.snapId !== '' && p.snapId !== s.snapId) {
          throw imageError('invalid-snap', `cannot use snap "${p.name}" from ${basename(s.path)}: its snap-id ${s.snapId} is not the snap-id ${p.snapId} the model names; use the snap the model was made for`);
        }
      }
      for (const s of sourced) {
        const decl = s.assertions.map((t) => decodeAssertion(t)).find((a) => a.type === 'snap-declaration');
        const publisher = decl?.headers['publisher-id'];
        // the store's own account publishes like canonical does in Canonical's store (the local store's account)
        if ((s.info.type === 'kernel' || s.info.type === 'gadget') && publisher !== undefined && publisher !== v.info.brandId && publisher !== 'canonical' && publisher !== decl?.authorityId) {
          throw imageError('invalid-snap', `cannot use ${s.info.type} "${s.info.name}" published by "${String(publisher)}" for model by "${v.info.brandId}"`);
        }
        for (const text of s.assertions) {
          try {
            await checkChain(decodeAssertion(text), lookups);
          } catch (err) {
            const why = isCoreforgeError(err) ? err.message : String(err);
            throw imageError('invalid-snap', `cannot use the assertions of ${basename(s.path)}: ${why}; get the .assert from the snap's store`);
          }
        }
      }
      ctx.state.seed = plan.snaps.map((p) => ({ planned: p, sourced: byName.get(p.name)! }));
      const warning = unassertedWarning(ctx.state.seed.filter((s) => s.sourced.snapId === '').map((s) => s.sourced.info.name));
      if (warning && !ctx.state.warnings.includes(warning)) {
        ctx.state.warnings.push(warning);
        ctx.env.log('warn', warning);
      }
      for (const s of ctx.state.seed) ctx.env.log('info', `${s.sourced.info.name} ${s.sourced.revision} from ${s.sourced.downloaded !== undefined ? 'the store' : basename(s.sourced.path)} (channel ${s.planned.channel || '-'})`);
    },
  },
  {
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
  },
  {
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
  },
  {
    name: 'stage-content',
    async run(ctx) {
      const { gadget, files } = await readGadget(ctx);
      await fresh(ctx.dirs.stage);
      for (const vol of gadget.volumes) {
        for (const s of vol.structures) {
          const content = files.get(`${vol.name}/${s.yamlIndex}`) ?? [];
          if (s.filesystem === '' || s.filesystem === 'none') continue;
          await stageContent(content, stageDir(ctx, vol.name, s.yamlIndex), s.filesystem.startsWith('vfat'));
        }
      }
    },
  },
  {
    name: 'build-volumes',
    async run(ctx) {
      const m = need(ctx.state.model, 'verified model');
      const { gadget, images } = await readGadget(ctx);
      const layouts = await layout(ctx, gadget);
      if (ctx.params.imageName !== undefined && layouts.length !== 1) {
        throw imageError(
          'invalid-gadget',
          `cannot name the image ${JSON.stringify(ctx.params.imageName)}: the gadget defines ${layouts.length} volumes (${layouts.map((l) => l.name).join(', ')}), and -o names the image of a single-volume gadget; leave out -o to get VOLUME.img for each volume, in -O DIR`,
        );
      }
      const seed = buildSeed(ctx);
      ctx.state.volumes = [];
      for (const vol of layouts) {
        const trees = new Map<number, string[]>();
        const volImages = new Map<number, ResolvedImage[]>();
        for (const s of vol.structures) {
          volImages.set(s.yamlIndex, images.get(`${vol.name}/${s.yamlIndex}`) ?? []);
          if (s.filesystem === '' || s.filesystem === 'none') continue;
          const staged = s.implicit ? [] : [stageDir(ctx, vol.name, s.yamlIndex)];
          if (s.role === 'system-data' && !m.uc20) trees.set(s.yamlIndex, [ctx.dirs.rootfs]);
          else if (s.role === 'system-seed') trees.set(s.yamlIndex, [ctx.dirs.seed, ...staged]);
          else if (!m.uc20 && (s.role === 'system-boot' || s.label === 'system-boot')) trees.set(s.yamlIndex, [ctx.dirs.boot, ...staged]);
          else trees.set(s.yamlIndex, staged);
        }
        const image = await newOutput(ctx, volumeImageName(ctx.params, vol.name));
        try {
          const result = await buildVolume({
            layout: vol,
            imagePath: image.path,
            displayPath: join(ctx.params.outputDir, image.name),
            trees,
            images: volImages,
            seed,
            epoch: m.epoch,
            exec: ctx.env.exec,
            signal: ctx.env.signal,
            progress: ctx.env.progress,
          });
          ctx.state.volumes.push({ name: vol.name, size: vol.size, ...result });
        } finally {
          image.close();
        }
      }
    },
  },
  {
    name: 'write-bmap',
    async run(ctx) {
      for (const v of need(ctx.state.volumes, 'volume images')) {
        const name = volumeImageName(ctx.params, v.name);
        ctx.env.progress(`map ${name}`, 0, 0);
        const image = outputFile(ctx, name);
        try {
          // The image is synced to disk while its bmap ranges are hashed (on worker threads). Its own
          // SHA-256 (mostly zeros to hash) is left to the daemon, after the build: see image-digests.ts.
          const hashed = bmapForImage(image.path, v.written, 4096, ctx.env.signal);
          hashed.catch(() => {});
          syncFile(image, `write image ${join(ctx.params.outputDir, image.name)}`);
          await writeOutputText(ctx, `${name}.bmap`, await hashed);
        } finally {
          image.close();
        }
      }
    },
  },
  {
    name: 'finish',
    async run(ctx) {
      const seed = need(ctx.state.seed, 'snap set');
      for (const s of seed) if (s.sourced.snapId === '') s.sourced.sha256 = await unassertedSnapSha256(s.sourced, ctx.env.signal);
      const manifest = seedManifest(seed as SeedSnap[]);
      const out = ctx.params.outputDir;
      const artifacts: BuildArtifact[] = [];
      for (const v of need(ctx.state.volumes, 'volume images')) {
        const image = outputFile(ctx, volumeImageName(ctx.params, v.name));
        const size = fstatSync(image.fd).size;
        image.close();
        const data = rangesBytes(toBlockRanges(v.written, 4096, size).map((r) => blockRangeBytes(r, 4096, size)));
        artifacts.push({ name: image.name, path: join(out, image.name), size, sha256: null, data });
        const bmap = `${volumeImageName(ctx.params, v.name)}.bmap`;
        const b = outputFile(ctx, bmap);
        const text = await readFile(b.path);
        b.close();
        artifacts.push({ name: bmap, path: join(out, bmap), size: text.length, sha256: createHash('sha256').update(text).digest('hex') });
      }
      for (const name of ['seed.manifest', 'snaps.manifest']) artifacts.push({ name, path: join(out, name), ...(await writeOutputText(ctx, name, manifest)) });
      ctx.state.artifacts = artifacts;
      const report = {
        model: { name: ctx.state.model?.name, brand: ctx.state.model?.brand, grade: ctx.state.model?.grade, source: ctx.params.modelSource },
        inputs: { ...ctx.params, model: undefined, firstBoot: ctx.params.firstBoot !== undefined, cloudInit: ctx.params.cloudInit !== undefined },
        snaps: seed.map((s) => ({
          name: s.sourced.info.name,
          type: s.sourced.info.type,
          version: s.sourced.info.version,
          revision: s.sourced.revision,
          channel: s.planned.channel,
          file: s.sourced.origin ?? s.sourced.path,
          ...(s.sourced.snapId === '' ? { sha256: s.sourced.sha256 } : { 'sha3-384': s.sourced.sha3_384 }),
          size: s.sourced.size,
          unasserted: s.sourced.snapId === '',
          ...(s.sourced.downloaded !== undefined ? { downloaded: s.sourced.downloaded } : {}),
        })),
        volumes: ctx.state.volumes?.map((v) => ({ name: v.name, size: v.size, 'disk-id': v.diskId, partitions: v.partitions })),
        artifacts,
        warnings: ctx.state.warnings,
        timings: ctx.state.timings,
      };
      await writeOutputText(ctx, 'build.json', `${JSON.stringify(report, null, 2)}\n`);
      // Everything appears at once, build.json last: a set of outputs without it is not a finished build.
      const order = [...ctx.state.outputs].sort((a, b) => Number(a.name === 'build.json') - Number(b.name === 'build.json'));
      for (const o of order) {
        const file = outputFile(ctx, o.name);
        try {
          ctx.places.output.commit(file);
        } finally {
          file.close();
        }
      }
      ctx.state.outputs = [];
    },
  },
];

if (buildSteps.map((s) => s.name).join() !== buildStepNames.join()) throw new Error('build steps and their names disagree');

/**
 * A resumed build whose partial outputs are gone (a failed build's are
 * removed; the build stays resumable from its work dir) makes them again:
 * its state goes back to before the first step that writes outputs.
 */
function rewindForMissingOutputs(state: BuildState, places: BuildPlaces, params: BuildParams): void {
  const expected = [
    ...(state.done.includes('build-volumes') ? (state.volumes ?? []).map((v) => volumeImageName(params, v.name)) : []),
    ...(state.done.includes('write-bmap') ? (state.volumes ?? []).map((v) => `${volumeImageName(params, v.name)}.bmap`) : []),
  ];
  const present = (name: string) => {
    const o = state.outputs.find((x) => x.name === name);
    const file = o && places.output.reopen(o.name, o.temp);
    file?.close();
    return file !== undefined;
  };
  if (expected.every(present)) return;
  places.discardOutputs(state);
  const first = state.done.indexOf('build-volumes');
  if (first >= 0) state.done = state.done.slice(0, first);
  delete state.volumes;
}

/**
 * Runs one named step of a build: skipped when its saved state says it is
 * done, state saved after it. The first step of a new build replaces what an
 * earlier build left at the same places (its work dir, its temporary outputs).
 */
export async function runBuildStep(
  name: BuildStepName,
  params: BuildParams,
  env: BuildEnv,
  places: BuildPlaces,
  options: { resume: boolean; first: boolean },
): Promise<BuildState> {
  const fingerprint = buildFingerprint(params);
  const fresh = options.first && !options.resume;
  let state = await loadState(places.stateFile).catch((err) => {
    if (fresh) return undefined;
    throw err;
  });
  if (state && fresh) {
    await places.discard(state);
    state = undefined;
  }
  if (state && options.resume && options.first) rewindForMissingOutputs(state, places, params);
  if (state && state.fingerprint !== fingerprint) {
    throw imageError(
      'invalid-workdir',
      options.resume
        ? `cannot resume the build in ${params.workDir ?? 'its work directory'}: it holds a build with other inputs; resume with the same model, snaps and options, or start again without --resume`
        : `cannot run build step ${name}: the saved build has other inputs; start the build from the beginning`,
    );
  }
  if (!state && options.resume && params.workDir !== undefined) {
    throw imageError('invalid-workdir', `cannot resume the build in ${params.workDir}: no unfinished build of yours ran there (a finished one leaves nothing to resume); start it again without --resume`);
  }
  if (!state && !options.first) {
    throw imageError('invalid-workdir', `cannot run build step ${name}: the build has no saved state; start the build from the beginning`);
  }
  state ??= {
    version: 2,
    fingerprint,
    done: [],
    timings: {},
    warnings: [],
    owner: { pid: places.caller.pid, uid: places.caller.uid, gid: places.caller.gid, groups: places.caller.groups },
    outputDir: params.outputDir,
    outputs: [],
  };
  if (state.done.includes(name)) return state;
  const hadWork = state.work !== undefined;
  const workDir = await places.work(state);
  if (!hadWork && state.work !== undefined) await saveState(places.stateFile, state);
  const step = buildSteps.find((s) => s.name === name)!;
  const started = Date.now();
  if (env.signal?.aborted) throw imageError('build-tool-failed', `cannot run build step ${name}: the build was stopped`);
  try {
    await step.run({ params, env, state, places, dirs: workDirs(workDir) });
  } catch (err) {
    if (isCoreforgeError(err)) throw err;
    throw writeError(err, `run build step ${name}`);
  }
  state.done.push(name);
  state.timings[name] = Date.now() - started;
  await saveState(places.stateFile, state);
  return state;
}

/**
 * Runs every step in order (or up to `until`, inclusive), continuing a saved
 * build when `resume` is set. Without `places` (a library call by the
 * daemon's own user), the build works in `params.workDir`, keeps its state
 * there (and leaves it there), and writes with the daemon's own rights.
 */
export async function runBuild(
  params: BuildParams,
  env: BuildEnv,
  options: { resume?: boolean; until?: BuildStepName; places?: BuildPlaces } = {},
): Promise<BuildState> {
  const workDir = params.workDir ?? '';
  const places = options.places ?? fixedPlaces({ caller: daemonCaller, outputDir: params.outputDir, workDir, stateFile: join(workDir, 'build-state.json') });
  try {
    let state: BuildState | undefined;
    for (const [i, step] of buildSteps.entries()) {
      state = await runBuildStep(step.name, params, env, places, { resume: options.resume ?? false, first: i === 0 });
      if (step.name === options.until) break;
    }
    return state!;
  } catch (err) {
    // A failed build leaves no partial output (the work dir stays, to look into or resume).
    const state = await loadState(places.stateFile).catch(() => undefined);
    if (state && !options.places) {
      places.discardOutputs(state);
      await saveState(places.stateFile, state);
    }
    throw err;
  } finally {
    if (!options.places) places.close();
  }
}
