/**
 * The direct backend: writes the user into extrausers (Ubuntu Core) or etc/
 * under the root, creates the home directory, authorized_keys and the sudoers
 * file. Every step is idempotent and driven by a journal written before the
 * first change, so a rerun after a crash finishes the job.
 */
import { chmod, mkdir, rm, stat } from 'node:fs/promises';
import { ccError } from './errors.js';
import { atomicWrite, chownMaybe, exists, readText, withLocks, writeError } from './fs-edge.js';
import type { Identity } from './key-sources.js';
import { writeMarker, type Owner } from './marker.js';
import { PATHS, safeUnderRoot, underRoot } from './paths.js';
import { formatKey } from './ssh-key.js';
import { allocateId, appendLine, authorizedKeys, hasName, sudoersContent, sudoersFileName, userLines } from './user-db.js';

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
  const text = await readText(underRoot(root, PATHS.journal));
  if (text === '') return undefined;
  let plan: UserPlan;
  try {
    plan = JSON.parse(text) as UserPlan;
  } catch {
    await rm(underRoot(root, PATHS.journal), { force: true });
    return undefined;
  }
  return applyPlan(root, plan);
}

async function dbDirOf(root: string): Promise<string> {
  return (await exists(underRoot(root, PATHS.extrausers))) ? PATHS.extrausers : PATHS.etc;
}

async function planUser(root: string, identity: Identity, now: Date): Promise<UserPlan> {
  const dbDir = await dbDirOf(root);
  const dbs = [...new Set([PATHS.etc, dbDir])];
  for (const f of ['passwd', 'group', 'shadow']) await safeUnderRoot(root, `${dbDir}/${f}`);
  await safeUnderRoot(root, PATHS.journal);
  const db = (dir: string, f: string) => underRoot(root, `${dir}/${f}`);
  return withLocks(
    ['passwd', 'group', 'shadow'].map((f) => db(dbDir, f)),
    async () => {
      const passwds = await Promise.all(dbs.map((d) => readText(db(d, 'passwd'))));
      const groups = await Promise.all(dbs.map((d) => readText(db(d, 'group'))));
      const where = dbs.map((d) => `${d}/passwd`).join(' or ');
      if (hasName(passwds, identity.username)) {
        throw ccError('user-exists', `cannot create user "${identity.username}": a user of that name already exists in ${where}; pick another username`);
      }
      if (hasName(groups, identity.username)) {
        throw ccError('user-exists', `cannot create user "${identity.username}": a group of that name already exists in ${dbs.map((d) => `${d}/group`).join(' or ')}; pick another username`);
      }
      const id = allocateId(passwds, groups);
      const gecos = (identity.email ?? identity.origin).replace(/[:,\n]/g, ' ');
      const plan: UserPlan = {
        username: identity.username,
        uid: id,
        gid: id,
        gecos,
        dbDir,
        authorizedKeys: authorizedKeys(identity.keys.map(formatKey), identity.origin),
        origin: identity.origin,
        days: Math.floor(now.getTime() / 86_400_000),
      };
      await atomicWrite(underRoot(root, PATHS.journal), JSON.stringify(plan) + '\n', { mode: 0o600 });
      await addEntries(root, plan);
      return plan;
    },
  );
}

async function addEntries(root: string, plan: UserPlan): Promise<void> {
  const lines = userLines(
    { name: plan.username, uid: plan.uid, gid: plan.gid, gecos: plan.gecos, home: `/home/${plan.username}`, shell: '/bin/bash' },
    plan.days,
  );
  for (const [file, mode] of [['group', 0o644], ['shadow', 0o640], ['passwd', 0o644]] as const) {
    const path = underRoot(root, `${plan.dbDir}/${file}`);
    const old = await readText(path);
    const next = appendLine(old, lines[file]);
    if (next !== old) await atomicWrite(path, next, { mode: await modeOf(path, mode) });
  }
}

async function modeOf(path: string, fallback: number): Promise<number> {
  return stat(path).then(
    (s) => s.mode & 0o7777,
    () => fallback,
  );
}

async function applyPlan(root: string, plan: UserPlan): Promise<Owner> {
  const { username, uid, gid } = plan;
  if (!hasName([await readText(underRoot(root, `${plan.dbDir}/passwd`))], username)) {
    await withLocks(['passwd', 'group', 'shadow'].map((f) => underRoot(root, `${plan.dbDir}/${f}`)), () => addEntries(root, plan));
  }
  const home = await safeUnderRoot(root, `home/${username}/.ssh`).then((p) => p.slice(0, -'/.ssh'.length));
  const ssh = `${home}/.ssh`;
  const sudoers = await safeUnderRoot(root, `${PATHS.sudoersDir}/${sudoersFileName(username)}`);
  try {
    await mkdir(home, { recursive: true, mode: 0o755 });
    await chmod(home, 0o755); // not left to the umask
    await chownMaybe(home, uid, gid);
    await mkdir(ssh, { recursive: true, mode: 0o700 });
    await chmod(ssh, 0o700);
    await chownMaybe(ssh, uid, gid);
  } catch (err) {
    throw writeError(home, err);
  }
  await atomicWrite(`${ssh}/authorized_keys`, plan.authorizedKeys, { mode: 0o600, uid, gid });
  await atomicWrite(sudoers, sudoersContent(username), { mode: 0o400, uid: 0, gid: 0 });
  const owner: Owner = { username, origin: plan.origin };
  await writeMarker(root, owner);
  await rm(underRoot(root, PATHS.journal), { force: true });
  return owner;
}
