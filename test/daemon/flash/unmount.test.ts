import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Exec } from '../../../daemon/flash/exec.js';
import { driveMountpoints, unmountDrive } from '../../../daemon/flash/unmount.js';

const lsblk = JSON.stringify({
  blockdevices: [{
    path: '/dev/sdb',
    mountpoints: [null],
    children: [
      { path: '/dev/sdb1', mountpoints: ['/media/u/boot'] },
      { path: '/dev/sdb2', mountpoints: ['/media/u/root', '/media/u/root/var/lib/x'] },
    ],
  }],
});

function fakeExec(results: Record<string, { code: number; stdout?: string; stderr?: string }>, calls: string[]): Exec {
  return async (file, args) => {
    const line = [file, ...args].join(' ');
    calls.push(line);
    const r = results[line] ?? results[file] ?? { code: 0 };
    return { code: r.code, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  };
}

describe('unmounting a drive', () => {
  it('lists the mountpoints of the drive and its partitions', async () => {
    const calls: string[] = [];
    assert.deepEqual(await driveMountpoints('/dev/sdb', fakeExec({ lsblk: { code: 0, stdout: lsblk } }, calls)), ['/media/u/boot', '/media/u/root', '/media/u/root/var/lib/x']);
    assert.deepEqual(calls, ['lsblk -J -o PATH,MOUNTPOINTS /dev/sdb']);
  });

  it('unmounts nested mounts first', async () => {
    const calls: string[] = [];
    await unmountDrive('/dev/sdb', fakeExec({ lsblk: { code: 0, stdout: lsblk } }, calls));
    assert.deepEqual(calls.slice(1), ['umount /media/u/root/var/lib/x', 'umount /media/u/boot', 'umount /media/u/root']);
  });

  it('unmounts through systemd when the daemon runs in a service\'s private mount namespace', async () => {
    const calls: string[] = [];
    await unmountDrive('/dev/sdb', fakeExec({ lsblk: { code: 0, stdout: lsblk } }, calls), undefined, ['systemd-umount']);
    assert.deepEqual(calls.slice(1), ['systemd-umount /media/u/root/var/lib/x', 'systemd-umount /media/u/boot', 'systemd-umount /media/u/root']);
  });

  it('refuses a drive whose filesystem stays mounted, naming the mountpoint', async () => {
    const exec = fakeExec({ lsblk: { code: 0, stdout: lsblk }, umount: { code: 32, stderr: 'umount: /media/u/root: target is busy.\n' } }, []);
    await assert.rejects(unmountDrive('/dev/sdb', exec), {
      kind: 'drive-busy',
      message: 'cannot flash /dev/sdb: /media/u/root/var/lib/x on it cannot be unmounted (umount: /media/u/root: target is busy.); close the programs using it and try again',
    });
  });

  it('refuses a drive with active swap', async () => {
    const swap = JSON.stringify({ blockdevices: [{ path: '/dev/sdc', mountpoints: [null], children: [{ path: '/dev/sdc1', mountpoints: ['[SWAP]'] }] }] });
    await assert.rejects(unmountDrive('/dev/sdc', fakeExec({ lsblk: { code: 0, stdout: swap } }, [])), {
      kind: 'drive-busy',
      message: 'cannot flash /dev/sdc: one of its partitions is in use as swap; turn it off with "swapoff" first',
    });
  });
});
