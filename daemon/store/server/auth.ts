// The macaroon flow of the local store's dashboard and SSO services: the
// dashboard mints a root macaroon with a third-party caveat for the SSO; the
// SSO discharges it for a good email/password/one-time code; requests carry
// both (bound).
//
// Who a request speaks for comes only from what the store minted: the SSO
// puts one `sso-identity=ACCOUNT EXPIRES MAC` caveat in each discharge, the
// MAC keyed by a store secret and bound to the discharge's caveat id. Every
// other first-party caveat (in the root or the discharge) is a restriction a
// holder may add: it must be understood and must hold, so caveats can narrow
// a macaroon (`account-id=`, `expires=`, `permissions=`) but never move it to
// another account or extend it.
import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import {
  deserializeMacaroon,
  newMacaroon,
  parseAuthorization,
  serializeMacaroon,
  type Macaroon,
} from '../macaroons.js';

/** Why a request's macaroons were refused: none given, not valid, the SSO's expiry passed (refresh), or valid but without the permission. */
export type AuthFailure = 'missing' | 'invalid' | 'expired' | 'forbidden';

export interface MacaroonAuthOptions {
  /** root key of dashboard macaroons */
  dashboardKey: Buffer;
  /** key the SSO uses to open caveat ids */
  ssoKey: Buffer;
  /** key of the MAC in the SSO's identity caveat */
  identityKey: Buffer;
  dashboardLocation: string;
  ssoLocation: string;
  /** how long a discharge is good for */
  dischargeTtlMs: number;
  now: () => Date;
}

/** A valid set of macaroons: the account they speak for, and what a refresh keeps. */
interface Verified {
  accountId: string;
  /** the SSO caveat id the discharge answers */
  caveatId: string;
  /** when the SSO's discharge expires (ms since the epoch) */
  expires: number;
  /** the restrictions a holder added, in order (carried into a refreshed discharge) */
  restrictions: string[];
}

type Refusal = { failure: AuthFailure; message: string };

/** Permission names as `permissions=` caveats and POST /dev/api/acl/ carry them. */
export const permissionPattern = /^[a-z][a-z_]{0,63}$/;

const accountIdPattern = /^[A-Za-z0-9]{1,64}$/;
const isoTime = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?Z$/;
const identityPattern = /^sso-identity=([A-Za-z0-9]{1,64}) (\S+) ([A-Za-z0-9_-]{43})$/;

/** A caveat as shown in messages: quoted and cut short. */
const show = (cond: string) => JSON.stringify(cond.length > 80 ? `${cond.slice(0, 77)}...` : cond);

const parseTime = (text: string): number => (isoTime.test(text) ? Date.parse(text) : NaN);

/** Mints and checks the store's macaroons. */
export class MacaroonAuth {
  constructor(private readonly o: MacaroonAuthOptions) {}

  /** A root macaroon (what POST /dev/api/acl/ returns) for the given permissions. */
  mintRoot(permissions: string[]): string {
    const m = newMacaroon(this.o.dashboardKey, JSON.stringify({ v: 1, nonce: randomBytes(12).toString('hex') }), this.o.dashboardLocation);
    m.addFirstPartyCaveat(`permissions=${permissions.join(',')}`);
    const caveatKey = randomBytes(32);
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.o.ssoKey, iv);
    const sealed = Buffer.concat([iv, c.update(caveatKey), c.final(), c.getAuthTag()]).toString('base64url');
    m.addThirdPartyCaveat(caveatKey, sealed, this.o.ssoLocation);
    return serializeMacaroon(m);
  }

  /** Opens a caveat id made by mintRoot; undefined when it was not made with this SSO's key. */
  private caveatKey(caveatId: string): Buffer | undefined {
    try {
      const b = Buffer.from(caveatId, 'base64url');
      if (b.length !== 12 + 32 + 16) return undefined;
      const d = createDecipheriv('aes-256-gcm', this.o.ssoKey, b.subarray(0, 12));
      d.setAuthTag(b.subarray(b.length - 16));
      return Buffer.concat([d.update(b.subarray(12, b.length - 16)), d.final()]);
    } catch {
      return undefined;
    }
  }

  /** True when a caveat id was made by this store's dashboard (checked before asking for credentials). */
  isOurCaveat(caveatId: string): boolean {
    return this.caveatKey(caveatId) !== undefined;
  }

  private identityMac(caveatId: string, accountId: string, expires: string): string {
    return createHmac('sha256', this.o.identityKey).update(`coreforge sso identity v1\n${caveatId}\n${accountId}\n${expires}`).digest('base64url');
  }

  /**
   * A discharge for a caveat id, speaking for the account until now + TTL,
   * with the given holder restrictions carried over (refresh); undefined when
   * the caveat id is not ours.
   */
  discharge(caveatId: string, accountId: string, restrictions: string[] = []): string | undefined {
    const key = this.caveatKey(caveatId);
    if (!key) return undefined;
    const expires = new Date(this.o.now().getTime() + this.o.dischargeTtlMs).toISOString();
    const d = newMacaroon(key, caveatId, this.o.ssoLocation);
    d.addFirstPartyCaveat(`sso-identity=${accountId} ${expires} ${this.identityMac(caveatId, accountId, expires)}`);
    for (const r of restrictions) d.addFirstPartyCaveat(r);
    return serializeMacaroon(d);
  }

  /**
   * Applies the caveat rules to every first-party caveat of a verified set of
   * macaroons: exactly one account, attested by the SSO for this caveat id;
   * every restriction understood and holding; none contradicting another.
   */
  private evaluate(conditions: string[], caveatId: string, need: readonly string[] | undefined, refreshing: boolean): Verified | Refusal {
    const invalid = (why: string): Refusal => ({ failure: 'invalid', message: `cannot authorize the request: ${why}` });
    const now = this.o.now().getTime();
    let identity: { accountId: string; expires: number } | undefined;
    const accountIds: string[] = [];
    const permissions: string[][] = [];
    const restrictions: string[] = [];
    let holderExpiry = Infinity;
    for (const cond of conditions) {
      const name = /^([a-z][a-z-]*)=/.exec(cond)?.[1];
      if (name === 'sso-identity') {
        const m = identityPattern.exec(cond);
        const want = m ? this.identityMac(caveatId, m[1]!, m[2]!) : undefined;
        if (!m || !want || !timingSafeEqual(Buffer.from(m[3]!), Buffer.from(want)) || Number.isNaN(parseTime(m[2]!))) {
          return invalid(`caveat ${show(cond)} was not issued by this store's SSO for this login; log in again`);
        }
        if (identity && identity.accountId !== m[1]) return invalid('the macaroons name two accounts; log in again');
        identity = { accountId: m[1]!, expires: Math.min(identity?.expires ?? Infinity, parseTime(m[2]!)) };
        continue;
      }
      const value = cond.slice((name?.length ?? 0) + 1);
      if (name === 'account-id') {
        if (!accountIdPattern.test(value)) return invalid(`caveat ${show(cond)} is not an account-id; remove it or log in again`);
        accountIds.push(value);
      } else if (name === 'expires') {
        const t = parseTime(value);
        if (Number.isNaN(t)) return invalid(`caveat ${show(cond)} is not a UTC time (YYYY-MM-DDTHH:MM:SSZ); remove it or log in again`);
        holderExpiry = Math.min(holderExpiry, t);
      } else if (name === 'permissions') {
        const list = value.split(',');
        if (!list.every((p) => permissionPattern.test(p))) return invalid(`caveat ${show(cond)} is not a comma-separated list of permission names; log in again`);
        permissions.push(list);
      } else {
        return invalid(`caveat ${show(cond)} is not one this store understands (permissions=, account-id=, expires=); log in again without it`);
      }
      restrictions.push(cond);
    }
    if (!identity) return invalid('the discharge macaroon names no account attested by this store\'s SSO; log in again');
    const other = accountIds.find((a) => a !== identity.accountId);
    if (other !== undefined) {
      return invalid(`caveat "account-id=${other}" contradicts the account the SSO issued the login for; a caveat can only restrict a macaroon, never change its account`);
    }
    if (holderExpiry <= now) return invalid(`caveat "expires=..." added to the macaroons passed at ${new Date(holderExpiry).toISOString()}; log in again`);
    if (!refreshing && identity.expires <= now) return { failure: 'expired', message: 'cannot authorize the request: the discharge macaroon has expired; refresh it at the SSO (POST /api/v2/tokens/refresh) or log in again' };
    if (need && !refreshing) {
      const missing = permissions.find((list) => !list.some((p) => need.includes(p)));
      if (missing) {
        return { failure: 'forbidden', message: `cannot authorize the request: it needs permission ${need.join(' or ')}, and the macaroon allows only ${missing.join(', ')}; log in again asking for it` };
      }
    }
    return { accountId: identity.accountId, caveatId, expires: identity.expires, restrictions };
  }

  /**
   * Checks an Authorization header for a request needing one of the `need`
   * permissions (none: any valid login); gives the account id or why not.
   */
  check(header: string | undefined, need?: readonly string[]): { accountId: string } | Refusal {
    const auth = parseAuthorization(header);
    if (!auth) return { failure: 'missing', message: 'cannot authorize the request: it has no "Authorization: Macaroon root=..., discharge=..." header; log in to the store first' };
    const invalid = (why: string): Refusal => ({ failure: 'invalid', message: `cannot authorize the request: ${why}` });
    let root: Macaroon;
    let discharges: Macaroon[];
    try {
      root = deserializeMacaroon(auth.root);
      discharges = auth.discharges.map(deserializeMacaroon);
    } catch {
      return invalid('the Authorization header does not hold macaroons in the store\'s format; log in again');
    }
    // One shape only: the dashboard's root with its single SSO caveat, and the SSO's discharge for it.
    const thirdParty = root.caveats.filter((c) => c.vid !== undefined);
    if (thirdParty.length !== 1 || thirdParty[0]!.location !== this.o.ssoLocation) {
      return invalid(`the root macaroon must have exactly one third-party caveat, for ${this.o.ssoLocation}; use the macaroon POST /dev/api/acl/ gave, unchanged but for first-party caveats`);
    }
    const caveatId = Buffer.from(thirdParty[0]!.identifier).toString('utf8');
    if (!this.caveatKey(caveatId)) return invalid('the root macaroon was not made by this store; log in again');
    const discharge = discharges[0];
    if (discharges.length !== 1 || !discharge || Buffer.from(discharge.identifier).toString('utf8') !== caveatId) {
      return invalid('the request must carry exactly one discharge macaroon, the SSO\'s for the root\'s caveat; log in again');
    }
    if (discharge.caveats.some((c) => c.vid !== undefined)) return invalid('the discharge macaroon has a third-party caveat, which this store does not accept; log in again');
    const conditions: string[] = [];
    try {
      root.verify(this.o.dashboardKey, (cond) => {
        conditions.push(cond);
        return null;
      }, discharges);
    } catch {
      return invalid('the macaroons\' signatures do not verify (or the discharge is not bound to the root); log in again');
    }
    const r = this.evaluate(conditions, caveatId, need, false);
    return 'failure' in r ? r : { accountId: r.accountId };
  }

  /**
   * What a refresh of an (unbound) discharge gives: its account, the SSO's
   * expiry and the restrictions to carry over; a refusal when the discharge
   * is not the SSO's, or a caveat in it fails (expiry of the SSO's own aside).
   */
  refreshable(discharge: string): Verified | Refusal {
    const refuse = (why: string): Refusal => ({ failure: 'invalid', message: `cannot refresh the discharge macaroon: ${why}; log in again` });
    let d: Macaroon;
    try {
      d = deserializeMacaroon(discharge);
    } catch {
      return refuse('it is not a macaroon in the store\'s format');
    }
    const caveatId = Buffer.from(d.identifier).toString('utf8');
    const key = this.caveatKey(caveatId);
    if (!key) return refuse('it was not issued by this store\'s SSO');
    if (d.caveats.some((c) => c.vid !== undefined)) return refuse('it has a third-party caveat');
    const conditions: string[] = [];
    try {
      d.verify(key, (cond) => {
        conditions.push(cond);
        return null;
      });
    } catch {
      return refuse('its signature does not verify (send the discharge unbound, as the SSO gave it)');
    }
    const r = this.evaluate(conditions, caveatId, undefined, true);
    if ('failure' in r) return { failure: r.failure, message: r.message.replace(/^cannot authorize the request: /, 'cannot refresh the discharge macaroon: ') };
    return r;
  }
}
