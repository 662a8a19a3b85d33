// Channels as snapd and the store spell them: [TRACK/]RISK[/BRANCH]. Pure.
import { storeError } from './errors.js';

/** Risks from most to least stable; a channel "closes" onto the more stable ones. */
export const risks = ['stable', 'candidate', 'beta', 'edge'] as const;
export type Risk = (typeof risks)[number];

/** A parsed channel; `track` defaults to latest. */
export interface Channel {
  track: string;
  risk: Risk;
  branch: string;
}

const trackPattern = /^[a-zA-Z0-9](?:[_.-]?[a-zA-Z0-9])*$/;

/** Parses "stable", "18/stable", "latest/edge/fix" (snapd's channel.Parse, without architecture). */
export function parseChannel(text: string): Channel {
  const bad = (why: string) =>
    storeError('invalid-channel', `cannot use channel ${JSON.stringify(text)}: ${why}; use TRACK/RISK such as "latest/stable" or "18/edge"`);
  if (text === '') throw bad('the channel is empty');
  const parts = text.split('/');
  if (parts.length > 3) throw bad('it has more than three parts');
  let track = 'latest';
  let risk: string;
  let branch = '';
  // a lone name is a risk if it is one, else a track at stable (snapd's channel.Parse: "18" is 18/stable)
  if (parts.length === 1) {
    if ((risks as readonly string[]).includes(parts[0]!)) risk = parts[0]!;
    else [track, risk] = [parts[0]!, 'stable'];
  }
  else if (parts.length === 3) [track, risk, branch] = parts as [string, string, string];
  else if ((risks as readonly string[]).includes(parts[0]!)) [risk, branch] = parts as [string, string];
  else [track, risk] = parts as [string, string];
  if (!(risks as readonly string[]).includes(risk)) throw bad(`risk ${JSON.stringify(risk)} is not one of ${risks.join(', ')}`);
  if (!trackPattern.test(track)) throw bad(`track ${JSON.stringify(track)} is not a valid track name`);
  if (parts.length > 1 && branch === '' && parts.length === 3) throw bad('the branch is empty');
  return { track, risk: risk as Risk, branch };
}

/** The full name of a channel: TRACK/RISK[/BRANCH]. */
export function channelName(c: Channel): string {
  return `${c.track}/${c.risk}${c.branch ? `/${c.branch}` : ''}`;
}

/** The risks a request for `risk` may be served from, nearest first (edge -> beta -> candidate -> stable). */
export function closingRisks(risk: Risk): Risk[] {
  return risks.slice(0, risks.indexOf(risk) + 1).reverse();
}
