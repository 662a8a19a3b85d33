import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseKernelRef } from '../../../../daemon/image/gadget/kernel-ref.js';
import { cleanPath } from '../../../../daemon/image/gadget/paths.js';

describe('$kernel: references', () => {
  test('splits the asset name from the content path, keeping a trailing slash', () => {
    assert.deepEqual(parseKernelRef('$kernel:dtbs/dtbs/broadcom/'), { asset: 'dtbs', content: 'dtbs/broadcom/' });
    assert.deepEqual(parseKernelRef('$kernel:pi-dtbs/bcm2711.dtb'), { asset: 'pi-dtbs', content: 'bcm2711.dtb' });
  });

  const bad: [string, string][] = [
    ['$kernel:dtbs', 'invalid asset and content in kernel ref "$kernel:dtbs"'],
    ['$kernel:/dtbs', 'missing asset name or content in kernel ref "$kernel:/dtbs"'],
    ['$kernel:dtbs/', 'missing asset name or content in kernel ref "$kernel:dtbs/"'],
    ['$kernel:dtbs/a/../b', 'invalid content in kernel ref "$kernel:dtbs/a/../b"'],
    ['$kernel:dtbs/a//b', 'invalid content in kernel ref "$kernel:dtbs/a//b"'],
    ['$kernel:dtbs//', 'invalid content in kernel ref "$kernel:dtbs//"'],
    ['$kernel:-dtbs/a', 'invalid asset name in kernel ref "$kernel:-dtbs/a"'],
    ['$kernel:dt_bs/a', 'invalid asset name in kernel ref "$kernel:dt_bs/a"'],
  ];
  for (const [ref, error] of bad) {
    test(`rejects "${ref}"`, () => assert.equal(parseKernelRef(ref), error));
  }

  test('cleans paths the way Go path.Clean does', () => {
    assert.equal(cleanPath('a//b/./c/'), 'a/b/c');
    assert.equal(cleanPath('/../a'), '/a');
    assert.equal(cleanPath('a/../..'), '..');
    assert.equal(cleanPath(''), '.');
  });
});
