import type { Screen } from '../tui/screen.js';

/** The identity prompt: store email, gh:USER or lp:USER. */
export function identityScreen(backend: 'snapd' | 'direct', problem?: string): Screen {
  const extra =
    backend === 'direct'
      ? ['', 'You can also type gh:USER or lp:USER to use the public SSH keys of a GitHub or Launchpad user.']
      : [];
  return {
    title: 'Owner account',
    body: [
      'Type the email address of your store (Ubuntu One) account. A user with the same name and SSH keys is created on this device; it can use sudo.',
      ...extra,
      '',
      'Type "back" to return to the network settings.',
    ],
    problem,
  };
}
