/** Pure rules for passwd/shadow/group text: parsing names and ids, allocating, formatting new entries. */
import { ccError } from './errors.js';

export interface UserDbTexts {
  passwd: string;
  shadow: string;
  group: string;
}

export interface NewUser {
  name: string;
  uid: number;
  gid: number;
  gecos: string;
  home: string;
  shell: string;
}

/** Names and numeric ids found in colon-separated database text (field 0 and field `idField`). */
export function entries(text: string, idField: number): { name: string; id: number }[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('#'))
    .map((l) => {
      const f = l.split(':');
      return { name: f[0] ?? '', id: Number(f[idField] ?? NaN) };
    });
}

/** The lowest id >= 1000 free both as a uid and as a gid in every given database. */
export function allocateId(passwds: string[], groups: string[], start = 1000): number {
  const used = new Set<number>();
  for (const p of passwds) for (const e of entries(p, 2)) used.add(e.id);
  for (const p of passwds) for (const e of entries(p, 3)) used.add(e.id);
  for (const g of groups) for (const e of entries(g, 2)) used.add(e.id);
  let id = start;
  while (used.has(id)) id++;
  if (id > 59999) throw ccError('user-exists', 'cannot allocate a user id: every uid/gid from 1000 to 59999 is taken; remove unused users');
  return id;
}

/** True when a user or group named `name` appears in any of the texts. */
export function hasName(texts: string[], name: string): boolean {
  return texts.some((t) => entries(t, 2).some((e) => e.name === name));
}

/** The passwd, shadow and group lines for a new user with a locked password (key-only login). */
export function userLines(u: NewUser, daysSinceEpoch: number): { passwd: string; shadow: string; group: string } {
  return {
    passwd: `${u.name}:x:${u.uid}:${u.gid}:${u.gecos}:${u.home}:${u.shell}`,
    shadow: `${u.name}:*:${daysSinceEpoch}:0:99999:7:::`,
    group: `${u.name}:x:${u.gid}:`,
  };
}

/** `text` with `line` appended, unless a line for the same name is already there (idempotent). */
export function appendLine(text: string, line: string): string {
  const name = line.split(':')[0] + ':';
  if (text.split('\n').some((l) => l.startsWith(name))) return text;
  const base = text === '' || text.endsWith('\n') ? text : text + '\n';
  return base + line + '\n';
}

/** `text` without the line for `name` (used to roll back). */
export function removeLine(text: string, name: string): string {
  return text
    .split('\n')
    .filter((l) => !l.startsWith(name + ':'))
    .join('\n');
}

/** The sudoers.d content snapd writes for a sudoer (osutil.AddUser's template). */
export function sudoersContent(name: string): string {
  return `\n# Created by snap create-user\n\n# User rules for ${name}\n${name} ALL=(ALL) NOPASSWD:ALL\n`;
}

/** The sudoers.d file name; "." is escaped because sudo ignores names containing it. */
export function sudoersFileName(name: string): string {
  return 'create-user-' + name.replaceAll('.', '%2E');
}

/** authorized_keys text: each key preceded by a comment saying where it was imported from. */
export function authorizedKeys(keys: string[], origin: string): string {
  return keys.map((k) => `# imported from ${origin}\n${k}\n`).join('');
}
