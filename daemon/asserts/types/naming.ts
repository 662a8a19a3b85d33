// Snap names, snap ids, account ids and channels, as snapd validates them
// (snap/naming, snap/channel), for the type rules.

/** snapd's snap id rule (naming.ValidSnapID). */
export const validSnapId = /^[a-z0-9A-Z]{32}$/;

/** snapd's account id rule (validAccountID). */
export const validAccountId = /^(?:[a-z0-9A-Z]{32}|[-a-z0-9]{2,28})$/;

/** snapd's provenance rule (naming.ValidProvenance). */
export const validProvenance = /^[a-zA-Z0-9](?:-?[a-zA-Z0-9])*$/;

/** The provenance a snap-revision has when it names none. */
export const defaultProvenance = 'global-upload';

/** snapd's alias and app name rules. */
export const validAlias = /^[a-zA-Z0-9][-_.a-zA-Z0-9]*$/;
export const validApp = /^[a-zA-Z0-9](?:-?[a-zA-Z0-9])*$/;

const wellKnownSnapIds: Record<string, string> = {
  core: '99T7MUlRhtI3U0QFgl5mXXESAiSwt776',
  snapd: 'PMrrV4ml8uWuEUDBT8dSGnKUYbevVhc4',
  core18: 'CSO04Jhav2yK0uz97cr0ipQRyqg0qQL6',
  core20: 'DLqre5XGLbDqg9jPtiAhRRjDuPVa5X1q',
  core22: 'amcUKQILKXHHTlmSa7NMdnXSx02dNeeT',
  core24: 'dwTAh7MZZ01zyriOZErqd1JynQLiOGvM',
};

/** The production store id of a well-known snap (snapd, core, coreNN), or ''. */
export function wellKnownSnapId(name: string): string {
  return Object.hasOwn(wellKnownSnapIds, name) ? (wellKnownSnapIds[name] as string) : '';
}

/** The risks a channel can name, in order. */
export const channelRisks = ['stable', 'candidate', 'beta', 'edge'] as const;

/** A channel as written: each part present only if the text had it. */
export interface VerbatimChannel {
  track: string;
  risk: string;
  branch: string;
}

/** Parses a channel keeping what was written (snapd's channel.ParseVerbatim); returns an error text on failure. */
export function parseChannelVerbatim(s: string): VerbatimChannel | string {
  if (s === '') return 'channel name cannot be empty';
  const p = s.split('/');
  const isRisk = (x: string) => (channelRisks as readonly string[]).includes(x);
  let track: string | undefined;
  let risk: string | undefined;
  let branch: string | undefined;
  if (p.length > 3) return `channel name has too many components: ${s}`;
  if (p.length === 3) [track, risk, branch] = p;
  else if (p.length === 2) {
    if (isRisk(p[0] as string)) [risk, branch] = p;
    else [track, risk] = p;
  } else if (isRisk(p[0] as string)) risk = p[0];
  else track = p[0];
  if (risk !== undefined && !isRisk(risk)) return `invalid risk in channel name: ${s}`;
  if (track !== undefined && track === '') return `invalid track in channel name: ${s}`;
  if (branch !== undefined && branch === '') return `invalid branch in channel name: ${s}`;
  return { track: track ?? '', risk: risk ?? '', branch: branch ?? '' };
}
