import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type DriveChange, diffDrives, watchDrives } from '../../../daemon/flash/drive-watch.js';
import type { Drive } from '../../../daemon/flash/drives.js';

function drive(path: string, size = 32e9, serial = 'S'): Drive {
  return {
    path, size, serial, name: path.slice(5), dev: '8:0', model: '', vendor: '', bus: 'usb', removable: true, readOnly: false, isLoop: false,
    mountpoints: [], holders: [], holdsImage: false, partitions: [], backingFile: null, verdict: 'ok', reasons: [],
  };
}

describe('drive watching', () => {
  it('reports drives that came and went, and a card swapped in the same slot as both', () => {
    const change = diffDrives([drive('/dev/sdb'), drive('/dev/sdc')], [drive('/dev/sdc', 64e9, 'T'), drive('/dev/sdd')]);
    assert.deepEqual(change.attached.map((d) => [d.path, d.size]), [['/dev/sdc', 64e9], ['/dev/sdd', 32e9]]);
    assert.deepEqual(change.detached.map((d) => [d.path, d.size]), [['/dev/sdb', 32e9], ['/dev/sdc', 32e9]]);
  });

  it('polls until aborted and calls back only on changes', async () => {
    const listings = [[drive('/dev/sdb')], [drive('/dev/sdb')], [drive('/dev/sdb'), drive('/dev/sdc')], [drive('/dev/sdc')]];
    const controller = new AbortController();
    const changes: DriveChange[] = [];
    let calls = 0;
    await watchDrives({ intervalMs: 1 }, (c) => changes.push(c), controller.signal, async () => {
      const out = listings[Math.min(calls++, listings.length - 1)]!;
      if (calls === listings.length + 1) controller.abort();
      return out;
    });
    assert.deepEqual(changes.map((c) => [c.attached.map((d) => d.path), c.detached.map((d) => d.path)]), [[['/dev/sdc'], []], [[], ['/dev/sdb']]]);
  });
});
