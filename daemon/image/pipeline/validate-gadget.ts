import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Caller } from '../../caller/caller.js';
import { openInput, readInput } from '../../caller/files.js';
import { copyTreeAsCaller } from '../../caller/tree.js';
import { decodeAssertion, type ModelInfo } from '../../asserts/index.js';
import { isCoreforgeError } from '../../errors.js';
import { imageError } from '../errors.js';
import { checkGadgetContent, readSnapFile } from '../gadget/content-check.js';
import { reportGadgetYaml, type GadgetYamlReport, type ModelTraits, type SectorSize } from '../gadget/index.js';
import type { Exec } from './exec.js';

/**
 * Edge module: `coreforge gadget validate` — the same loading, rules and
 * layout the build uses, for a gadget snap, an unpacked gadget directory or a
 * bare gadget.yaml, with the rules of a model's generation when one is given.
 */

/** The rules, layout and warnings of gadget/report.ts, and whether the content was checked against the gadget's files. */
export interface GadgetReport extends GadgetYamlReport {
  contentChecked: boolean;
}

export interface GadgetInput {
  /** A gadget snap, an unpacked gadget directory or a gadget.yaml, read with `caller`'s rights. */
  path?: string;
  caller: Caller;
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

/** The largest gadget.yaml read from a path (real ones are a few KiB). */
const gadgetYamlMaxBytes = 1024 * 1024;

/** Loads, validates and lays out a gadget (image rules as warnings); throws invalid-gadget or invalid-gadget-content. */
export async function validateGadget(input: GadgetInput, exec: Exec, signal?: AbortSignal): Promise<GadgetReport> {
  const model = input.model === undefined ? undefined : modelTraits(input.model);
  let yaml = input.yaml;
  let gadgetDir: string | undefined;
  let temp: string | undefined;
  try {
    if (yaml === undefined) {
      const path = input.path;
      if (path === undefined) throw imageError('invalid-gadget', 'cannot validate a gadget: give a gadget snap, an unpacked gadget directory or a gadget.yaml');
      // Everything is read with the caller's rights, into a directory of the daemon's.
      let isDir = false;
      try {
        openInput(input.caller, path, 'gadget').close();
      } catch (err) {
        if (!isCoreforgeError(err)) throw err;
        if (err.kind === 'file-not-found') throw imageError('invalid-gadget', `cannot validate gadget ${path}: it does not exist`);
        if (err.kind !== 'not-a-regular-file' || err.details?.code !== 'EISDIR') throw err;
        isDir = true;
      }
      temp = await mkdtemp(join(tmpdir(), 'coreforge-gadget-'));
      if (isDir) {
        gadgetDir = join(temp, 'gadget');
        await copyTreeAsCaller(input.caller, path, gadgetDir, 'gadget directory');
      } else if (path.endsWith('.snap')) {
        gadgetDir = join(temp, 'gadget');
        const snap = openInput(input.caller, path, 'gadget snap');
        try {
          await exec('unsquashfs', ['-n', '-no-xattrs', '-d', gadgetDir, snap.path], { signal, what: `unpack gadget snap ${path}` });
        } finally {
          snap.close();
        }
      }
      if (gadgetDir === undefined) yaml = readInput(input.caller, path, 'gadget.yaml', gadgetYamlMaxBytes).toString('utf8');
      else {
        try {
          yaml = (await readSnapFile(gadgetDir, 'meta/gadget.yaml', 'gadget')).toString('utf8');
        } catch (err) {
          if (isCoreforgeError(err)) throw err;
          throw imageError('invalid-gadget', `cannot read meta/gadget.yaml of gadget ${path}: the file is missing; a gadget snap must ship meta/gadget.yaml`);
        }
      }
    }
    const { gadget, report } = reportGadgetYaml(yaml, { ...(model ? { model } : {}), sectorSize: input.sectorSize ?? 512 });
    if (gadgetDir !== undefined) await checkGadgetContent(gadget, { gadgetDir });
    return { ...report, contentChecked: gadgetDir !== undefined };
  } finally {
    if (temp !== undefined) await rm(temp, { recursive: true, force: true });
  }
}
