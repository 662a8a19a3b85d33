// The failed-login throttle of the store server's SSO, on its own: windows,
// forgiveness of attempts that did not fail, client address keys.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { clientKey, FailureThrottle, type ThrottleLimit } from '../../../daemon/store/server/throttle.js';

describe('failed-login throttle', () => {
  const limit: ThrottleLimit = { failures: 3, windowMs: 60_000 };

  it('holds a key once it has its failures inside the window, until the oldest of them leaves it', () => {
    let now = 1_000_000;
    const t = new FailureThrottle(() => now);
    const keys: [string, ThrottleLimit][] = [['a', limit]];
    for (let i = 0; i < 3; i++) {
      assert.equal(t.throttled(keys), undefined);
      t.begin(keys);
      now += 10_000;
    }
    assert.deepEqual(t.throttled(keys), { key: 'a', limit, waitMs: 30_000 });
    now += 29_999;
    assert.equal(t.throttled(keys)?.waitMs, 1);
    now += 1;
    assert.equal(t.throttled(keys), undefined);
    assert.equal(t.throttled([['b', limit]]), undefined, 'other keys are not held');
  });

  it('takes back a forgiven attempt and forgets a cleared key', () => {
    const now = 5_000;
    const t = new FailureThrottle(() => now);
    const keys: [string, ThrottleLimit][] = [['a', limit], ['c', { failures: 10, windowMs: 60_000 }]];
    t.begin(keys);
    t.begin(keys);
    t.forgive(t.begin(keys));
    assert.equal(t.throttled(keys), undefined);
    t.begin(keys);
    assert.equal(t.throttled(keys)?.key, 'a');
    t.clear('a');
    assert.equal(t.throttled(keys), undefined);
  });

  it('keeps at most maxKeys keys, dropping those with no failure left in the window first, then the least recently failed', () => {
    let now = 0;
    const long = { failures: 1, windowMs: 1000 };
    const t = new FailureThrottle(() => now, 2);
    t.begin([['b', long]]);
    t.begin([['a', { failures: 1, windowMs: 10 }]]);
    now = 100;
    t.begin([['c', long]]);
    assert.ok(t.throttled([['b', long]]), '"a" went, its window being over, though "b" is older');
    assert.ok(t.throttled([['c', long]]));
    t.begin([['d', long]]);
    assert.equal(t.throttled([['b', long]]), undefined, 'then the least recently failed');
    assert.ok(t.throttled([['c', long]]));
    assert.ok(t.throttled([['d', long]]));
  });

  const addresses: [string | undefined, string][] = [
    ['127.0.0.1', '127.0.0.1'],
    ['::ffff:192.0.2.7', '192.0.2.7'],
    ['2001:db8:aa:bb:1:2:3:4', '2001:db8:aa:bb::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['2001:0db8:0000:0001::5', '2001:db8:0:1::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    [undefined, 'unknown'],
  ];
  for (const [address, key] of addresses) {
    it(`throttles client ${address ?? '(no address)'} as ${key}`, () => {
      assert.equal(clientKey(address), key);
    });
  }
});
