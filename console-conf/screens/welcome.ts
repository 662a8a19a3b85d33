import type { Screen } from '../tui/screen.js';

/** The first screen on every console until someone presses Enter. */
export function welcomeScreen(problem?: string): Screen {
  return {
    title: 'Ubuntu Core - first boot',
    body: [
      'This device does not have an owner yet.',
      '',
      'The next steps connect it to a network and create your login account from the SSH keys of your store (Ubuntu One) account, or of a GitHub or Launchpad user. Afterwards you log in over SSH; there is no password.',
    ],
    problem,
  };
}
