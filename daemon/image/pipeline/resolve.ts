import { parseChannelVerbatim, type ModelInfo, type ModelSnap } from '../../asserts/index.js';
import { imageError } from '../errors.js';

/**
 * Which snaps a model's seed holds and from which channel, by snapd's
 * seedwriter rules (writer.go, seed16.go, seed20.go, snap/channel): the
 * implicit system snap (core, or snapd with a base; snapd on UC20+), the
 * essential snaps, the other model snaps (UC20+ optional ones only when
 * asked for), then extra snaps; pinned tracks, risk-only channels inheriting
 * the track, and UC20+ grade rules. Pure.
 */

/** A snap the user asked for: by name (store, later) or a local file already inspected. */
export interface SnapOption {
  name: string;
  /** '' when none given for this snap. */
  channel: string;
  /** A local file without assertions. */
  unasserted: boolean;
}

export interface ResolveOptions {
  /** The global `-c` channel; '' when not given. */
  channel: string;
  snaps: SnapOption[];
}

/**
 * Why a snap is in the seed, for messages: listed in the model, implied by it
 * (snapd with a base, core without one), an optional model snap selected with
 * --snap, or an extra snap asked for with --snap.
 */
export type SnapOrigin = 'model' | 'implicit' | 'selected' | 'option';

export interface PlannedSnap {
  name: string;
  /** From the model; '' for UC16/18 and dangerous models without ids. */
  snapId: string;
  /** What the model says it is: snapd, core, base, kernel, gadget, app, or '' (UC16/18 required-snaps); 'extra' for extra snaps. */
  role: string;
  channel: string;
  modes: string[];
  essential: boolean;
  /** Not in the model: asked for with --snap. */
  extra: boolean;
  /** Listed in the model with a default-channel (UC20+), to tell a channel override in options.yaml. */
  defaultChannel: string;
  /** Where it came from (absent in the state of builds planned before this was kept). */
  origin?: SnapOrigin;
}

export interface SeedPlan {
  uc20: boolean;
  snaps: PlannedSnap[];
}

const risks = ['stable', 'candidate', 'beta', 'edge'];

/** snapd's message when a grade above dangerous meets a dangerous feature (seed20.go). */
export const notAllowedExceptForDangerous =
  'cannot override channels, add devmode snaps, local snaps, or extra snaps/components with a model of grade higher than dangerous';

function fail(message: string): never {
  throw imageError('invalid-snap-set', message);
}

/** How snapd names a model snap in messages (seedwriter helpers.go whichModelSnap). */
export function whichModelSnap(role: string, name: string, modelBase: string): string {
  switch (role) {
    case 'snapd':
      return 'snapd snap';
    case 'core':
      return 'core snap';
    case 'base':
      return name === modelBase ? `boot base "${name}"` : `base "${name}"`;
    case 'kernel':
      return `kernel "${name}"`;
    case 'gadget':
      return `gadget "${name}"`;
    default:
      return `snap "${name}"`;
  }
}

/** snapd's channel.Resolve: a risk-only new channel inherits the default channel's track. */
export function resolveChannel(defaultChannel: string, newChannel: string): string {
  if (newChannel === '') return defaultChannel;
  if (defaultChannel === '') return newChannel;
  const ch = parseChannelVerbatim(defaultChannel);
  const track = typeof ch === 'string' ? '' : ch.track;
  if (risks.includes(newChannel.split('/')[0]!) && track !== '') return `${track}/${newChannel}`;
  return newChannel;
}

/** snapd's channel.ResolvePinned; returns undefined when the new channel switches away from the pinned track. */
export function resolvePinned(track: string, newChannel: string): string | undefined {
  if (newChannel === '') return track;
  if (risks.includes(newChannel.split('/')[0]!)) return `${track}/${newChannel}`;
  if (newChannel !== track && !newChannel.startsWith(`${track}/`)) return undefined;
  return newChannel;
}

function systemSnap(model: ModelInfo, uc20: boolean): ModelSnap {
  const name = uc20 || model.base !== '' ? 'snapd' : 'core';
  return {
    name,
    snapId: '',
    snapType: name,
    modes: uc20 ? ['run', 'ephemeral'] : ['run'],
    defaultChannel: uc20 ? 'latest/stable' : '',
    pinnedTrack: '',
    presence: 'required',
    classic: false,
    components: {},
  };
}

/** Lists the snaps to seed for a model and the options, with their channels; throws invalid-snap-set. */
export function resolveSeedSnaps(model: ModelInfo, options: ResolveOptions): SeedPlan {
  const uc20 = model.grade !== 'unset';
  const dangerous = model.grade === 'dangerous';
  if (options.channel !== '') {
    const ch = parseChannelVerbatim(options.channel);
    if (typeof ch === 'string') fail(`cannot use global default option channel: ${ch}`);
    if (uc20 && !dangerous) fail(notAllowedExceptForDangerous);
  }
  const byName = new Map<string, SnapOption>();
  for (const opt of options.snaps) {
    if (byName.has(opt.name)) fail(`snap "${opt.name}" is repeated in options`);
    byName.set(opt.name, opt);
    if (opt.channel !== '') {
      const ch = parseChannelVerbatim(opt.channel);
      if (typeof ch === 'string') fail(`cannot use option channel for snap "${opt.name}": ${ch}`);
      if (uc20 && !dangerous) {
        fail('cannot override channels with a model of grade higher than dangerous but --snap=<snap-name> is allowed to select optional snaps to include');
      }
    }
    if (uc20 && !dangerous && opt.unasserted) fail(notAllowedExceptForDangerous);
  }

  const essential = model.allSnaps.slice(0, model.numEssentialSnaps);
  const system = systemSnap(model, uc20);
  const modSnaps: { snap: ModelSnap; essential: boolean; implicit?: boolean }[] = [];
  if (!essential.some((s) => s.name === system.name)) modSnaps.push({ snap: system, essential: true, implicit: true });
  for (const s of essential) modSnaps.push({ snap: s, essential: true });
  for (const s of model.allSnaps.slice(model.numEssentialSnaps)) modSnaps.push({ snap: s, essential: false });

  const planned: PlannedSnap[] = [];
  for (const { snap, essential: isEssential, implicit } of modSnaps) {
    const opt = byName.get(snap.name);
    if (snap.presence === 'optional' && opt === undefined) continue;
    const optChannel = opt?.channel || options.channel;
    let channel: string;
    if (snap.pinnedTrack !== '') {
      const resolved = resolvePinned(snap.pinnedTrack, optChannel);
      if (resolved === undefined) {
        fail(
          `option channel "${optChannel}" for ${whichModelSnap(snap.snapType, snap.name, model.base)} has a track incompatible with the pinned track from model assertion: ${snap.pinnedTrack}`,
        );
      }
      channel = resolved;
    } else {
      channel = resolveChannel(snap.defaultChannel || (uc20 ? 'latest/stable' : 'stable'), optChannel);
    }
    planned.push({
      name: snap.name,
      snapId: snap.snapId,
      role: snap.snapType,
      channel,
      modes: snap.modes,
      essential: isEssential,
      extra: false,
      defaultChannel: snap.defaultChannel,
      origin: implicit ? 'implicit' : snap.presence === 'optional' ? 'selected' : 'model',
    });
  }
  const inModel = new Set(planned.map((p) => p.name));
  const extras = options.snaps.filter((o) => !inModel.has(o.name) && !modSnaps.some((m) => m.snap.name === o.name));
  if (extras.length > 0 && uc20 && !dangerous) fail(notAllowedExceptForDangerous);
  for (const o of extras) {
    planned.push({
      name: o.name,
      snapId: '',
      role: 'extra',
      channel: resolveChannel(uc20 ? 'latest/stable' : 'stable', o.channel || options.channel),
      modes: ['run'],
      essential: false,
      extra: true,
      defaultChannel: '',
      origin: 'option',
    });
  }
  return { uc20, snaps: planned };
}
