/**
 * The direct backend: writes the user into extrausers (Ubuntu Core) or etc/
 * under the root, creates the home directory, authorized_keys and the sudoers
 * file. Every step is idempotent and driven by a journal written before the
 * first change, so a rerun after a crash finishes the job.
 *
 * Nothing is written or chowned through a symlink (writableUnderRoot), an
 * existing home or .ssh is taken over only when it is a plain directory the
 * new user owns (checkOwnDir), and the key list is held to LIMITS; all of this
 * is checked before the journal, so a refusal leaves the root as it was.
 */
import { lstat, mkdir, rm } from 'node:fs/promises';
import { ccError } from './errors.js';
import { atomicWrite, checkOwnDir, ensureOwnDir, exists, readRegular, withLocks, writeError } from './fs-edge.js';
import type { Identity } from './key-sources.js';
import { LIMITS } from './limits.js';
import { writeMarker, type Owner } from './marker.js';
import { PATHS, underRoot, writableUnderRoot } from './paths.js';
import { checkKeyLimits, formatKey, parseKeyLine } from './ssh-key.js';
import { allocateId, appendLine, authorizedKeys, hasName, sudoersContent, sudoersFileName, userLines } from './user-db.js';
import { checkUsername } from './username.js';

/** Everything needed to (re)do the creation, saved as the journal. */
export interface UserPlan {
  username: string;
  uid: number;
  gid: number;
  gecos: string;
  /** device path of the user database directory: var/lib/extrausers or etc */
  dbDir: string;
  authorizedKeys: string;
  origin: string;
  days: number;
}

export interface DirectOptions {
  now?: () => Date;
}

/** Creates the user for `identity` and marks the device configured; returns the owner. */
export async function createUserDirect(root: string, identity: Identity, opts: DirectOptions = {}): Promise<Owner> {
  const now = opts.now ?? (() => new Date());
  const plan = await planUser(root, identity, now());
  return applyPlan(root, plan);
}

/** Finishes a creation a crash interrupted; undefined when there is no journal. */
export async function resumeDirect(root: string): Promise<Owner | undefined> {
  const path = underRoot(root, PATHS.journal);
  const bad = (why: string) =>
    ccError('invalid-journal', `cannot finish the interrupted setup from /${PATHS.journal}: ${why}; remove that file and run console-conf again`);
  const text = await readRegular(path, { maxBytes: LIMITS.maxJournalBytes, fail: bad });
  if (text === undefined || text === '') return undefined;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    await rm(path, { force: true });
    return undefined;
  }
  return applyPlan(root, checkPlan(v, bad));
}

/**
 * A journal read back from disk, checked to be a plan console-conf could have
 * written: a crafted one must not name "../etc" as the user, a uid below 1000,
 * another database or keys beyond LIMITS.
 */
function checkPlan(v: unknown, bad: (why: string) => Error): UserPlan {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad('it is not a JSON object');
  const p = v as Record<string, unknown>;
  const str = (k: string): string => {
    const x = p[k];
    if (typeof x !== 'string') throw bad(`"${k}" is not a string`);
    // eslint-disable-next-line no-control-regex
    if (k !== 'authorizedKeys' && /[\x00-\x1f\x7f]/.test(x)) throw bad(`"${k}" holds control characters`);
    return x;
  };
  const int = (k: string, min: number, max: number): number => {
    const x = p[k];
    if (typeof x !== 'number' || !Number.isInteger(x) || x < min || x > max) throw bad(`"${k}" is not a whole number from ${min} to ${max}`);
    return x;
  };
  let username: string;
  try {
    username = checkUsername(str('username'));
  } catch (err) {
    throw bad(`"username": ${(err as Error).message}`);
  }
  const dbDir = str('dbDir');
  if (dbDir !== PATHS.extrausers && dbDir !== PATHS.etc) throw bad(`"dbDir" is neither ${PATHS.extrausers} nor ${PATHS.etc}`);
  const gecos = str('gecos');
  if (/[:,]/.test(gecos)) throw bad('"gecos" holds ":" or ","');
  const origin = str('origin');
  const keysText = str('authorizedKeys');
  const keyLines = keysText.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
  if (keyLines.length === 0) throw bad('"authorizedKeys" holds no key');
  try {
    checkKeyLimits(keyLines, origin);
    for (const l of keyLines) parseKeyLine(l, origin);
  } catch (err) {
    throw bad(`"authorizedKeys": ${(err as Error).message}`);
  }
  return {
    username,
    uid: int('uid', 1000, 59999),
    gid: int('gid', 1000, 59999),
    gecos,
    dbDir,
    authorizedKeys: keysText,
    origin,
    days: int('days', 0, 1_000_000),
  };
}

async function dbDirOf(root: string): Promise<string> {
  return (await exists(underRoot(root, PATHS.extrausers))) ? PATHS.extrausers : PATHS.etc;
}

async function planUser(root: string, identity: Identity, now: Date): Promise<UserPlan> {
  const dbDir = await dbDirOf(root);
  const dbs = [...new Set([PATHS.etc, dbDir])];
  const keyLines = identity.keys.map(formatKey);
  checkKeyLimits(keyLines, identity.origin);
  const db = (dir: string, f: string) => underRoot(root, `${dir}/${f}`);
  for (const f of ['passwd', 'group', 'shadow']) await writableUnderRoot(root, `${dbDir}/${f}`);
  const journal = await writableUnderRoot(root, PATHS.journal);
  await writableUnderRoot(root, PATHS.marker);
  return withLocks(
    ['passwd', 'group', 'shadow'].map((f) => db(dbDir, f)),
    async () => {
      const passwds = await Promise.all(dbs.map((d) => readDb(db(d, 'passwd'))));
      const groups = await Promise.all(dbs.map((d) => readDb(db(d, 'group'))));
      const where = dbs.map((d) => `${d}/passwd`).join(' or ');
      if (hasName(passwds, identity.username)) {
        throw ccError('user-exists', `cannot create user "${identity.username}": a user of that name already exists in ${where}; pick another username`);
      }
      if (hasName(groups, identity.username)) {
        throw ccError('user-exists', `cannot create user "${identity.username}": a group of that name already exists in ${dbs.map((d) => `${d}/group`).join(' or ')}; pick another username`);
      }
      const id = allocateId(passwds, groups);
      // everything applyPlan() will write or chown is checked before the first change
      await checkTargets(root, identity.username, id);
      const gecos = (identity.email ?? identity.origin).replace(/[:,\n]/g, ' ');
      const plan: UserPlan = {
        username: identity.username,
        uid: id,
        gid: id,
        gecos,
        dbDir,
        authorizedKeys: authorizedKeys(keyLines, identity.origin),
        origin: identity.origin,
        days: Math.floor(now.getTime() / 86_400_000),
      };
      await atomicWrite(journal, JSON.stringify(plan) + '\n', { mode: 0o600 });
      await addEntries(root, plan);
      return plan;
    },
  );
}

/** Reads a user database file: "" when missing; a FIFO, device or oversized file is refused unread. */
async function readDb(path: string): Promise<string> {
  const fail = (why: string, fix: string) => ccError('unsafe-path', `cannot read the user database ${path}: ${why}; ${fix}`);
  return (await readRegular(path, { maxBytes: LIMITS.maxUserDbBytes, follow: true, fail })) ?? '';
}

/**
 * Where the home, .ssh, authorized_keys and sudoers file of `username` go. The
 * home and .ssh are judged by checkOwnDir() (their own message); the paths
 * below and beside them by writableUnderRoot().
 */
async function targets(root: string, username: string) {
  const homes = await writableUnderRoot(root, 'home', 'directory');
  const home = underRoot(root, `home/${username}`);
  return { homes, home, ssh: `${home}/.ssh` };
}

/** The files applyPlan() writes, once the home and .ssh are known to be plain directories. */
async function fileTargets(root: string, username: string) {
  return {
    keys: await writableUnderRoot(root, `home/${username}/.ssh/authorized_keys`),
    sudoers: await writableUnderRoot(root, `${PATHS.sudoersDir}/${sudoersFileName(username)}`),
  };
}

function refuseHome(path: string, username: string): (why: string) => Error {
  return (why) =>
    ccError(
      'unsafe-path',
      `cannot use ${path} as the home of "${username}": ${why}; console-conf takes over an existing home only when it is a plain directory owned by the new user, so move it away or pick another username`,
    );
}

function refuseSsh(path: string, username: string): (why: string) => Error {
  return (why) =>
    ccError(
      'unsafe-path',
      `cannot use ${path} as the .ssh directory of "${username}": ${why}; console-conf takes over an existing .ssh only when it is a plain directory owned by the new user, so move it away`,
    );
}

/** Refuses, before anything is written, a target applyPlan() would refuse. */
async function checkTargets(root: string, username: string, uid: number): Promise<void> {
  const t = await targets(root, username);
  await checkOwnDir(t.home, uid, refuseHome(t.home, username));
  await checkOwnDir(t.ssh, uid, refuseSsh(t.ssh, username));
  await fileTargets(root, username);
}

async function addEntries(root: string, plan: UserPlan): Promise<void> {
  const lines = userLines(
    { name: plan.username, uid: plan.uid, gid: plan.gid, gecos: plan.gecos, home: `/home/${plan.username}`, shell: '/bin/bash' },
    plan.days,
  );
  for (const [file, mode] of [['group', 0o644], ['shadow', 0o640], ['passwd', 0o644]] as const) {
    const path = await writableUnderRoot(root, `${plan.dbDir}/${file}`);
    const old = await readDb(path);
    const next = appendLine(old, lines[file]);
    if (next !== old) await atomicWrite(path, next, { mode: await modeOf(path, mode) });
  }
}

async function modeOf(path: string, fallback: number): Promise<number> {
  return lstat(path).then(
    (s) => s.mode & 0o7777,
    () => fallback,
  );
}

async function applyPlan(root: string, plan: UserPlan): Promise<Owner> {
  const { username, uid, gid } = plan;
  const t = await targets(root, username);
  if (!hasName([await readDb(await writableUnderRoot(root, `${plan.dbDir}/passwd`))], username)) {
    await withLocks(['passwd', 'group', 'shadow'].map((f) => underRoot(root, `${plan.dbDir}/${f}`)), () => addEntries(root, plan));
  }
  try {
    await mkdir(t.homes, { recursive: true, mode: 0o755 });
    await ensureOwnDir(t.home, { mode: 0o755, uid, gid, refuse: refuseHome(t.home, username) });
    await ensureOwnDir(t.ssh, { mode: 0o700, uid, gid, refuse: refuseSsh(t.ssh, username) });
  } catch (err) {
    throw writeError(t.home, err);
  }
  const f = await fileTargets(root, username);
  await atomicWrite(f.keys, plan.authorizedKeys, { mode: 0o600, uid, gid });
  await atomicWrite(f.sudoers, sudoersContent(username), { mode: 0o400, uid: 0, gid: 0 });
  const owner: Owner = { username, origin: plan.origin };
  await writeMarker(root, owner);
  await rm(underRoot(root, PATHS.journal), { force: true });
  return owner;
}
