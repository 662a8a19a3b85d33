import type { Fingerprint } from '../host-keys.js';
import type { Owner } from '../marker.js';
import type { Screen } from '../tui/screen.js';

/** The login details: who owns the device, how to ssh in, which host keys to expect. */
export function doneScreen(owner: Owner, addresses: string[], fps: Fingerprint[], title = 'Done - the device is ready'): Screen {
  const user = owner.username || 'USER';
  const ssh = addresses.length
    ? addresses.map((a) => `    ssh ${user}@${a}`)
    : [`    (no network address yet: connect the device to a network, then ssh ${user}@ITS-ADDRESS)`];
  return {
    title,
    body: [
      owner.origin ? `This device belongs to ${owner.origin}${owner.username ? `, user "${owner.username}"` : ''}.` : 'This device already has an owner.',
      '',
      'To log in, run this on a computer that has the private key:',
      ...ssh,
      '',
      ...(fps.length
        ? ['On first connection SSH shows one of these host key fingerprints; check it matches:', ...fps.map((f) => `    ${f.bits} ${f.sha256} (${f.label})`)]
        : ['This device has no SSH host keys yet; they are created when the SSH server first starts.']),
    ],
  };
}
