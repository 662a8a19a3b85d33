import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ModelInfo } from '../../../../daemon/asserts/index.js';
import { resolveChannel, resolvePinned, resolveSeedSnaps, notAllowedExceptForDangerous, type SnapOption } from '../../../../daemon/image/pipeline/resolve.js';
import { modelJSON } from '../../../fixtures/models.js';
import { decodeHeaders } from '../../asserts/helpers.js';

function model(name: string, change?: (m: Record<string, unknown>) => void): ModelInfo {
  const m = modelJSON(name, 'acme', '2026-01-01T00:00:00+00:00');
  change?.(m);
  const { type: _type, ...headers } = m;
  return decodeHeaders('model', headers).info as ModelInfo;
}

const local = (name: string, channel = ''): SnapOption => ({ name, channel, unasserted: true });
const channels = (m: ModelInfo, channel: string, snaps: SnapOption[] = []) =>
  Object.fromEntries(resolveSeedSnaps(m, { channel, snaps }).snaps.map((s) => [s.name, s.channel]));

test('the UC18 pi model seeds snapd, the kernel, core18 and the gadget with pinned tracks', () => {
  const plan = resolveSeedSnaps(model('my-pi3'), { channel: '', snaps: [] });
  assert.deepEqual(plan.snaps.map((s) => [s.name, s.role, s.channel, s.origin]), [
    ['snapd', 'snapd', 'stable', 'implicit'],
    ['pi-kernel', 'kernel', '18-pi3', 'model'],
    ['core18', 'base', 'stable', 'model'],
    ['pi', 'gadget', '18-pi3', 'model'],
  ]);
});

test('a risk-only channel inherits the pinned track, a full channel on that track is kept', () => {
  assert.deepEqual(channels(model('my-pi3'), 'beta'), { snapd: 'beta', 'pi-kernel': '18-pi3/beta', core18: 'beta', pi: '18-pi3/beta' });
  assert.deepEqual(channels(model('my-pi3'), '18-pi3/edge').pi, '18-pi3/edge');
  assert.deepEqual(channels(model('my-pi3'), '', [local('pi', 'candidate')]).pi, '18-pi3/candidate');
});

test('the UC16 pc model seeds core as its system snap and no snapd', () => {
  const plan = resolveSeedSnaps(model('coreforge-pc-16'), { channel: '', snaps: [] });
  assert.deepEqual(plan.snaps.map((s) => [s.name, s.channel]), [['core', 'stable'], ['pc-kernel', '16'], ['pc', '16']]);
});

test('the UC20 dangerous model keeps default channels, takes overrides, and lists extra snaps', () => {
  const m = model('coreforge-pc-20-dangerous');
  assert.deepEqual(channels(m, ''), { snapd: 'latest/stable', 'pc-kernel': '20/stable', core20: 'latest/stable', pc: '20/stable' });
  assert.deepEqual(channels(m, 'beta'), { snapd: 'latest/beta', 'pc-kernel': '20/beta', core20: 'latest/beta', pc: '20/beta' });
  const plan = resolveSeedSnaps(m, { channel: '', snaps: [local('hello-coreforge')] });
  assert.deepEqual(plan.snaps.at(-1), { name: 'hello-coreforge', snapId: '', role: 'extra', channel: 'latest/stable', modes: ['run'], essential: false, extra: true, defaultChannel: '', origin: 'option' });
});

test('optional UC20 snaps are seeded only when named', () => {
  const m = model('coreforge-pc-20-dangerous', (x) => {
    (x.snaps as unknown[]).push({ name: 'hello-coreforge', type: 'app', presence: 'optional' });
  });
  assert.equal(resolveSeedSnaps(m, { channel: '', snaps: [] }).snaps.some((s) => s.name === 'hello-coreforge'), false);
  const named = resolveSeedSnaps(m, { channel: '', snaps: [local('hello-coreforge')] }).snaps.find((s) => s.name === 'hello-coreforge');
  assert.deepEqual([named?.extra, named?.origin], [false, 'selected']);
});

test('channel helpers follow snapd channel.Resolve and ResolvePinned', () => {
  assert.equal(resolveChannel('20/stable', 'beta'), '20/beta');
  assert.equal(resolveChannel('stable', 'beta'), 'beta');
  assert.equal(resolveChannel('20/stable', ''), '20/stable');
  assert.equal(resolveChannel('20/stable', '22/edge'), '22/edge');
  assert.equal(resolvePinned('18-pi3', ''), '18-pi3');
  assert.equal(resolvePinned('18-pi3', 'beta/hotfix'), '18-pi3/beta/hotfix');
  assert.equal(resolvePinned('18-pi3', '20/beta'), undefined);
});

test('bad channels, grades and options are refused with snapd\'s messages', () => {
  const signed = model('coreforge-pc-20');
  const cases: [string, ModelInfo, string, SnapOption[], string][] = [
    ['a track other than the pinned one', model('my-pi3'), '20/beta', [], 'option channel "20/beta" for kernel "pi-kernel" has a track incompatible with the pinned track from model assertion: 18-pi3'],
    ['a per-snap track other than the pinned one', model('my-pi3'), '', [local('pi', 'latest/stable')], 'option channel "latest/stable" for gadget "pi" has a track incompatible with the pinned track from model assertion: 18-pi3'],
    ['an invalid global channel', model('my-pi3'), 'a/b/c/d', [], 'cannot use global default option channel: channel name has too many components: a/b/c/d'],
    ['a global channel with a signed model', signed, 'beta', [], notAllowedExceptForDangerous],
    ['a per-snap channel with a signed model', signed, '', [{ name: 'pc', channel: 'beta', unasserted: false }], 'cannot override channels with a model of grade higher than dangerous but --snap=<snap-name> is allowed to select optional snaps to include'],
    ['an unasserted local snap with a signed model', signed, '', [local('pc')], notAllowedExceptForDangerous],
    ['an extra snap with a signed model', signed, '', [{ name: 'hello-coreforge', channel: '', unasserted: false }], notAllowedExceptForDangerous],
    ['a snap named twice', model('my-pi3'), '', [local('pi'), local('pi')], 'snap "pi" is repeated in options'],
  ];
  for (const [what, m, channel, snaps, message] of cases) {
    assert.throws(() => resolveSeedSnaps(m, { channel, snaps }), (err: Error & { kind?: string }) => {
      assert.equal(err.message, message, what);
      assert.equal(err.kind, 'invalid-snap-set', what);
      return true;
    });
  }
});
