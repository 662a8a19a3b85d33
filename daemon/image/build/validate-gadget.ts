import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeAssertion, type ModelInfo } from '../../asserts/index.js';
import { isCoreforgeError } from '../../errors.js';
import { imageError } from '../errors.js';
import { checkGadgetContent } from '../gadget/content-check.js';
import { layoutGadget, loadGadget, type ModelTraits, type SectorSize } from '../gadget/index.js';
import { MiB } from '../gadget/quantity.js';
import type { Exec } from './exec.js';

/**
 * Edge module: `coreforge gadget validate` — the same loading, rules and
 * layout the build uses, for a gadget snap, an unpacked gadget directory or a
 * bare gadget.yaml, with the rules of a model's generation when one is given.
 */

export interface GadgetReport {
  rules: 'generic' | 'uc16' | 'uc20';
  contentChecked: boolean;
  volumes: {
    name: string;
    schema: string;
    bootloader: string;
    size: number;
    structures: { name: string; role: string; type: string; filesystem: string; label: string; offset: number; size: number; inImage: boolean }[];
  }[];
}

export interface GadgetInput {
  path?: string;
  yaml?: string;
  model?: string;
  sectorSize?: SectorSize;
}

function modelTraits(text: string): ModelTraits {
  let info: ModelInfo;
  try {
    const a = decodeAssertion(text);
    if (a.info.type !== 'model') throw imageError('invalid-model', `cannot use --model: it is a ${a.type} assertion, not a model`);
    info = a.info as ModelInfo;
  } catch (err) {
    if (isCoreforgeError(err) && err.kind === 'invalid-model') throw err;
    throw imageError('invalid-model', `cannot use --model: ${(err as Error).message}; pass a model assertion file`);
  }
  return { uc20: info.grade !== 'unset', classic: info.classic };
}

/** Loads, validates and lays out a gadget; throws invalid-gadget, invalid-gadget-content or invalid-layout. */
export async function validateGadget(input: GadgetInput, exec: Exec, signal?: AbortSignal): Promise<GadgetReport> {
  const model = input.model === undefined ? undefined : modelTraits(input.model);
  let yaml = input.yaml;
  let gadgetDir: string | undefined;
  let temp: string | undefined;
  try {
    if (yaml === undefined) {
      const path = input.path;
      if (path === undefined) throw imageError('invalid-gadget', 'cannot validate a gadget: give a gadget snap, an unpacked gadget directory or a gadget.yaml');
      let info;
      try {
        info = await stat(path);
      } catch {
        throw imageError('invalid-gadget', `cannot validate gadget ${path}: it does not exist`);
      }
      if (info.isDirectory()) gadgetDir = path;
      else if (path.endsWith('.snap')) {
        temp = await mkdtemp(join(tmpdir(), 'coreforge-gadget-'));
        gadgetDir = join(temp, 'gadget');
        await exec('unsquashfs', ['-n', '-no-xattrs', '-d', gadgetDir, path], { signal, what: `unpack gadget snap ${path}` });
      }
      const yamlPath = gadgetDir === undefined ? path : join(gadgetDir, 'meta/gadget.yaml');
      try {
        yaml = await readFile(yamlPath, 'utf8');
      } catch {
        throw imageError('invalid-gadget', `cannot read ${gadgetDir === undefined ? yamlPath : `meta/gadget.yaml of gadget ${path}`}: the file is missing; a gadget snap must ship meta/gadget.yaml`);
      }
    }
    const gadget = loadGadget(yaml, { model });
    if (gadgetDir !== undefined) await checkGadgetContent(gadget, { gadgetDir });
    const layouts = layoutGadget(gadget, { sectorSize: input.sectorSize ?? 512, systemDataSize: MiB });
    return {
      rules: model === undefined ? 'generic' : model.uc20 ? 'uc20' : 'uc16',
      contentChecked: gadgetDir !== undefined,
      volumes: layouts.map((v) => ({
        name: v.name,
        schema: v.schema,
        bootloader: v.bootloader,
        size: v.size,
        structures: v.structures.map((s) => ({
          name: s.name,
          role: s.role,
          type: s.type,
          filesystem: s.filesystem,
          label: s.label,
          offset: s.offset,
          size: s.implicit ? 0 : s.size,
          inImage: s.inImage,
        })),
      })),
    };
  } finally {
    if (temp !== undefined) await rm(temp, { recursive: true, force: true });
  }
}
