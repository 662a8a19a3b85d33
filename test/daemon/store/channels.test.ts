import assert from 'node:assert/strict';
import { test } from 'node:test';
import { channelName, parseChannel } from '../../../daemon/store/channels.js';

test('channels parse as snapd spells them: a lone risk is latest/RISK, a lone track TRACK/stable', () => {
  const cases: [string, string][] = [
    ['stable', 'latest/stable'],
    ['edge', 'latest/edge'],
    ['18', '18/stable'],
    ['18-pi3', '18-pi3/stable'],
    ['18/beta', '18/beta'],
    ['beta/hotfix', 'latest/beta/hotfix'],
    ['latest/edge/fix-1', 'latest/edge/fix-1'],
  ];
  for (const [text, full] of cases) assert.equal(channelName(parseChannel(text)), full, text);
});

test('bad channels name the rule and the fix', () => {
  assert.throws(() => parseChannel('18/unstable'), { kind: 'invalid-channel', message: 'cannot use channel "18/unstable": risk "unstable" is not one of stable, candidate, beta, edge; use TRACK/RISK such as "latest/stable" or "18/edge"' });
  assert.throws(() => parseChannel('-x'), { kind: 'invalid-channel', message: /track "-x" is not a valid track name/ });
  assert.throws(() => parseChannel(''), { kind: 'invalid-channel', message: /the channel is empty/ });
});
