import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ModelInfo } from '../../../../daemon/asserts/index.js';
import { decodeHeaders, loadAssertion, messageOf } from '../helpers.js';

const uc16 = {
  'authority-id': 'brand',
  series: '16',
  'brand-id': 'brand',
  model: 'pc',
  architecture: 'amd64',
  base: 'core18',
  gadget: 'pc=18',
  kernel: 'pc-kernel=18',
  'required-snaps': ['htop', 'jq'],
  timestamp: '2024-01-01T00:00:00Z',
};

const snap = (name: string, type: string, id: string, extra: Record<string, unknown> = {}) => ({
  name,
  type,
  id: id.padEnd(32, 'x'),
  'default-channel': 'latest/stable',
  ...extra,
});

const uc20 = {
  'authority-id': 'brand',
  series: '16',
  'brand-id': 'brand',
  model: 'pc-20',
  architecture: 'amd64',
  base: 'core20',
  grade: 'signed',
  snaps: [
    snap('pc', 'gadget', 'gadgetid', { 'default-channel': '20/stable' }),
    snap('pc-kernel', 'kernel', 'kernelid', { 'default-channel': '20/stable' }),
    snap('core20', 'base', 'DLqre5XGLbDqg9jPtiAhRRjDuPVa5X1q'),
    snap('snapd', 'snapd', 'PMrrV4ml8uWuEUDBT8dSGnKUYbevVhc4'),
    snap('htop', 'app', 'htopid', { presence: 'optional', modes: ['run', 'recover'] }),
  ],
  timestamp: '2024-01-01T00:00:00Z',
};

const model = (headers: Record<string, unknown>) => decodeHeaders('model', headers).info as ModelInfo;

test('a UC16/18 model names its kernel and gadget with pinned tracks and its required snaps', () => {
  const m = model(uc16);
  assert.equal(m.grade, 'unset');
  assert.equal(m.storageSafety, 'unset');
  assert.deepEqual([m.kernelSnap?.name, m.kernelSnap?.pinnedTrack], ['pc-kernel', '18']);
  assert.deepEqual([m.gadgetSnap?.name, m.gadgetSnap?.pinnedTrack], ['pc', '18']);
  assert.deepEqual(m.allSnaps.map((s) => s.name), ['pc-kernel', 'core18', 'pc', 'htop', 'jq']);
  assert.equal(m.numEssentialSnaps, 3);
  assert.deepEqual(m.serialAuthority, ['brand']);
  assert.equal(m.displayName, 'pc');
  assert.equal(m.timestamp.toISOString(), '2024-01-01T00:00:00.000Z');
});

test('a UC20 model lists its snaps, essential ones first, with modes, presence and channels', () => {
  const m = model(uc20);
  assert.equal(m.grade, 'signed');
  assert.equal(m.storageSafety, 'prefer-encrypted');
  assert.deepEqual(m.allSnaps.map((s) => s.name), ['snapd', 'pc-kernel', 'core20', 'pc', 'htop']);
  assert.deepEqual(m.allSnaps[1]?.modes, ['run', 'ephemeral']);
  assert.deepEqual(m.allSnaps[4]?.modes, ['run', 'recover']);
  assert.equal(m.allSnaps[4]?.presence, 'optional');
  assert.equal(m.kernelSnap?.defaultChannel, '20/stable');
  assert.equal(model({ ...uc20, grade: 'secured' }).storageSafety, 'encrypted');
});

test('a UC20 model may leave out a well-known base, which gets its store id', () => {
  const m = model({ ...uc20, snaps: uc20.snaps.filter((s) => s.name !== 'core20') });
  assert.equal(m.baseSnap?.snapId, 'DLqre5XGLbDqg9jPtiAhRRjDuPVa5X1q');
  assert.deepEqual(m.baseSnap?.modes, ['run', 'ephemeral']);
});

test('classic models: plain, and extended with a distribution and classic snaps', () => {
  const plain = model({ 'authority-id': 'generic', series: '16', 'brand-id': 'generic', model: 'generic-classic', classic: 'true', timestamp: '2017-07-27T00:00:00.0Z' });
  assert.equal(plain.classic, true);
  assert.equal(plain.kernelSnap, null);
  const extended = model({
    ...uc20,
    classic: 'true',
    distribution: 'ubuntu',
    snaps: [...uc20.snaps, snap('firefox', 'app', 'firefoxid', { classic: 'true' })],
  });
  assert.equal(extended.distribution, 'ubuntu');
  assert.equal(extended.allSnaps.at(-1)?.classic, true);
});

test('the vectors\' models type-check: UC16, UC18, UC20+, classic, dangerous', () => {
  const m = loadAssertion('canonical-models', 'ubuntu-core-24-amd64-dangerous.model').info as ModelInfo;
  assert.equal(m.grade, 'dangerous');
  const nested = loadAssertion('chains', 'nested-brand/nested-20-amd64.model').info as ModelInfo;
  assert.deepEqual(nested.serialAuthority, ['CA5GLZgNQWPhspDQK63Er46Uxz2SO7ez', 'generic']);
  assert.equal((loadAssertion('canonical-models', 'ubuntu-core-16-amd64.model').info as ModelInfo).base, '');
});

test('model rule violations are rejected with snapd\'s exact messages', () => {
  const withSnap = (i: number, extra: Record<string, unknown>) => ({
    ...uc20,
    snaps: uc20.snaps.map((s, j) => (j === i ? { ...s, ...extra } : s)),
  });
  const without = (h: Record<string, unknown>, name: string) => Object.fromEntries(Object.entries(h).filter(([k]) => k !== name));
  const cases: [string, Record<string, unknown>, string][] = [
    ['authority-id is not brand-id', { ...uc16, 'authority-id': 'other' }, 'authority-id and brand-id must match, model assertions are expected to be signed by the brand: "other" != "brand"'],
    ['model name with invalid characters', { ...uc16, model: 'pc_1' }, '"model" header contains invalid characters: "pc_1"; a model name is lowercase letters and digits, with single hyphens between them, like "pc-1"'],
    ['the guide\'s model name typed with capitals and an underscore', { ...uc16, model: 'My_Pi3' }, '"model" header contains invalid characters: "My_Pi3"; a model name is lowercase letters and digits, with single hyphens between them, like "my-pi3"'],
    ['model name with a trailing dash', { ...uc16, model: 'pc-' }, '"model" header contains invalid characters: "pc-"; a model name is lowercase letters and digits, with single hyphens between them, like "pc"'],
    ['model name in uppercase', { ...uc16, model: 'PC' }, '"model" header cannot contain uppercase letters; a model name is lowercase letters and digits, with single hyphens between them, like "pc"'],
    ['timestamp not RFC3339', { ...uc16, timestamp: '2024-01-01 00:00:00' }, '"timestamp" header is not a RFC3339 date: "2024-01-01 00:00:00" is not a date and time of the form YYYY-MM-DDTHH:MM:SS followed by Z or an offset; write it like 2026-12-06T10:00:00+00:00, or 2026-12-06T10:00:00Z in UTC ("coreforge sign --update-timestamp" sets it to now)'],
    ['timestamp missing', without(uc16, 'timestamp'), '"timestamp" header is mandatory'],
    ['gadget alongside snaps', { ...uc20, gadget: 'pc' }, 'cannot specify separate "gadget" header once using the extended snaps header'],
    ['required-snaps alongside snaps', { ...uc20, 'required-snaps': ['x1'] }, 'cannot specify separate "required-snaps" header once using the extended snaps header'],
    ['grade without snaps', { ...uc16, grade: 'signed' }, 'cannot specify a grade for model without the extended snaps header'],
    ['storage-safety without snaps', { ...uc16, 'storage-safety': 'encrypted' }, 'cannot specify storage-safety for model without the extended snaps header'],
    ['snap without id in a signed model', withSnap(4, { id: undefined }), '"id" of snap "htop" is mandatory for signed grade model'],
    ['default-channel without track', withSnap(4, { 'default-channel': 'edge' }), 'default channel for snap "htop" must specify a track'],
    ['default-channel with a bad risk', withSnap(4, { 'default-channel': 'latest/nightly' }), 'invalid default channel for snap "htop": invalid risk in channel name: latest/nightly'],
    ['kernel pinned to a risk', { ...uc16, kernel: 'pc-kernel=stable' }, '"kernel" channel selector must be a track name'],
    ['gadget pinned to a channel', { ...uc16, gadget: 'pc=18/edge' }, '"gadget" channel selector must be a track name only'],
    ['kernel with an invalid name', { ...uc16, kernel: 'PC' }, 'invalid snap name in "kernel" header: PC'],
    ['missing kernel (UC16)', without(uc16, 'kernel'), '"kernel" header is mandatory'],
    ['missing architecture', without(uc20, 'architecture'), '"architecture" header is mandatory'],
    ['missing base (UC20)', without(uc20, 'base'), '"base" header is mandatory'],
    ['required-snaps with an invalid name', { ...uc16, 'required-snaps': ['ok-name', 'x'] }, 'invalid snap name in "required-snaps" header: x'],
    ['non-extended classic model with a kernel', { ...without(uc16, 'base'), classic: 'true' }, 'cannot specify a kernel with a non-extended classic model'],
    ['non-extended classic model with a base', { ...without(uc16, 'kernel'), classic: 'true' }, 'cannot specify a base with a non-extended classic model'],
    ['extended classic model without distribution', { ...uc20, classic: 'true' }, '"distribution" header is mandatory, see distribution ID in os-release spec'],
    ['extended classic model with a bad distribution', { ...uc20, classic: 'true', distribution: 'Ubuntu' }, '"distribution" header contains invalid characters: "Ubuntu", see distribution ID in os-release spec'],
    ['distribution on a core model', { ...uc20, distribution: 'ubuntu' }, 'cannot specify distribution for model unless it is classic and has an extended snaps header'],
    ['classic not a boolean', { ...uc16, classic: 'yes' }, `"classic" header must be 'true' or 'false'`],
    ['an invalid grade', { ...uc20, grade: 'insecure' }, 'grade for model must be secured|signed|dangerous, not "insecure"'],
    ['an invalid storage-safety', { ...uc20, 'storage-safety': 'none' }, 'storage-safety for model must be encrypted|prefer-encrypted|prefer-unencrypted, not "none"'],
    ['secured with weaker storage', { ...uc20, grade: 'secured', 'storage-safety': 'prefer-encrypted' }, 'secured grade model must not have storage-safety overridden, only "encrypted" is valid'],
    ['no gadget among the snaps', { ...uc20, snaps: uc20.snaps.slice(1) }, 'one "snaps" header entry must specify the model gadget'],
    ['no kernel among the snaps', { ...uc20, snaps: uc20.snaps.filter((s) => s.type !== 'kernel') }, 'one "snaps" header entry must specify the model kernel'],
    ['snaps not a list', { ...uc20, snaps: 'pc' }, '"snaps" header must be a list of maps'],
    ['a snap listed twice', { ...uc20, snaps: [...uc20.snaps, snap('htop', 'app', 'other')] }, 'cannot list the same snap "htop" multiple times'],
    ['a snap id used twice', { ...uc20, snaps: [...uc20.snaps, snap('htop2', 'app', 'htopid')] }, `cannot specify the same snap id "${'htopid'.padEnd(32, 'x')}" multiple times, specified for snaps "htop" and "htop2"`],
    ['two kernels', { ...uc20, snaps: [...uc20.snaps, snap('k2', 'kernel', 'k2id')] }, 'cannot specify multiple kernel snaps: "pc-kernel" and "k2"'],
    ['boot base of the wrong type', withSnap(2, { type: 'app' }), 'boot base "core20" must specify type "base", not "app"'],
    ['an unknown snap type', withSnap(4, { type: 'driver' }), 'type of snap "htop" must be one of app|base|gadget|kernel|core|snapd'],
    ['an invalid snap name', withSnap(4, { name: 'h' }), 'invalid snap name "h"'],
    ['an invalid snap id', withSnap(4, { id: 'short' }), '"id" of snap "htop" contains invalid characters: "short"'],
    ['modes on an essential snap', withSnap(0, { modes: ['run'] }), 'essential snaps are always available, cannot specify modes of snap "pc"'],
    ['presence on an essential snap', withSnap(1, { presence: 'optional' }), 'essential snaps are always available, cannot specify presence for snap "pc-kernel"'],
    ['an invalid presence', withSnap(4, { presence: 'maybe' }), 'presence of snap "htop" must be one of required|optional'],
    ['an invalid mode', withSnap(4, { modes: ['Run'] }), '"modes" of snap "htop" contains an invalid element: "Run"'],
    ['a classic snap in a core model', withSnap(4, { classic: 'true' }), 'snap "htop" cannot be classic in non-classic model'],
    ['a not well-known base without an entry', { ...uc20, base: 'core99', snaps: uc20.snaps.filter((s) => s.name !== 'core20') }, 'cannot specify not well-known base "core99" without a corresponding "snaps" header entry'],
    ['a bad serial-authority', { ...uc16, 'serial-authority': 'generic' }, '"serial-authority" header must be a list of account ids'],
    ['a bad system-user-authority', { ...uc16, 'system-user-authority': ['Not Valid'] }, `"system-user-authority" header must be '*' or a list of account ids`],
    ['a validation set without mode', { ...uc16, 'validation-sets': [{ name: 'set-1' }] }, '"mode" of validation-set "brand/set-1" is mandatory'],
    ['a validation set with a zero sequence', { ...uc16, 'validation-sets': [{ name: 'set-1', sequence: '0', mode: 'enforce' }] }, '"sequence" of validation-set "brand/set-1" must be larger than 0 or left unspecified (meaning tracking latest)'],
  ];
  for (const [what, headers, want] of cases) {
    assert.equal(messageOf(() => decodeHeaders('model', headers)), `assertion model: ${want}`, what);
  }
});
