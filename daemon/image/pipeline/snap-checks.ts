import type { ModelInfo } from '../../asserts/index.js';
import { imageError } from '../errors.js';
import { whichModelSnap, type PlannedSnap } from './resolve.js';
import type { SnapYamlInfo } from './snap-source.js';

/**
 * snapd's checks of the snaps found for a seed plan (seedwriter helpers.go
 * checkType, writer.go checkBase, image_linux.go validateSnapArchs). Pure.
 */

const expectedTypeByRole: Record<string, string> = {
  snapd: 'snapd',
  core: 'os',
  base: 'base',
  kernel: 'kernel',
  gadget: 'gadget',
  app: 'app',
};

function fail(message: string): never {
  throw imageError('invalid-snap', message);
}

/** Checks type, architecture and base of every planned snap against what its file says. */
export function checkSeedSnaps(model: ModelInfo, planned: readonly PlannedSnap[], infos: ReadonlyMap<string, SnapYamlInfo>): void {
  for (const p of planned) {
    const info = infos.get(p.name);
    if (!info) continue;
    if (p.role === '' || p.role === 'extra') {
      if (p.role === '' && (info.type === 'kernel' || info.type === 'gadget')) fail(`snap "${p.name}" has unexpected type: ${info.type}`);
    } else if (info.type !== expectedTypeByRole[p.role]) {
      fail(`${whichModelSnap(p.role, p.name, model.base)} has unexpected type: ${info.type}`);
    }
    if (!info.architectures.some((a) => a === 'all' || a === model.architecture)) {
      fail(
        `snap "${info.name}" supported architectures (${info.architectures.join(', ')}) are incompatible with the model architecture (${model.architecture})`,
      );
    }
  }
  const available = new Set(planned.filter((p) => infos.has(p.name)).map((p) => p.name));
  for (const p of planned) {
    const info = infos.get(p.name);
    if (!info) continue;
    if (info.type === 'gadget' && info.base !== model.base) {
      fail(`cannot use gadget snap because its base "${info.base}" is different from model base "${model.base}"`);
    }
    if (info.base === 'none') continue;
    let base = info.base;
    if (base === '') {
      if (info.type !== 'gadget' && info.type !== 'app') continue;
      base = 'core';
    }
    if (!available.has(base)) {
      const modes = p.modes.length === 1 && p.modes[0] === 'run' ? '' : ` for all relevant modes (${p.modes.join(', ')})`;
      fail(`cannot add snap "${info.name}" without also adding its base "${base}" explicitly${modes}`);
    }
  }
}

/** snapd's warning about unasserted local snaps (image_linux.go). */
export function unassertedWarning(names: readonly string[]): string | undefined {
  if (names.length === 0) return undefined;
  return `WARNING: ${names.map((n) => JSON.stringify(n)).join(', ')} installed from local snaps disconnected from a store cannot be refreshed subsequently!`;
}
