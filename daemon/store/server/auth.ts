// The macaroon flow of the local store's dashboard and SSO services: the
// dashboard mints a root macaroon with a third-party caveat for the SSO; the
// SSO discharges it for a good email/password/one-time code, with first-party
// caveats naming the account and an expiry; requests carry both (bound).
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import {
  deserializeMacaroon,
  newMacaroon,
  parseAuthorization,
  serializeMacaroon,
  thirdPartyCaveatId,
} from '../macaroons.js';

/** Why a request's macaroons were refused. */
export type AuthFailure = 'missing' | 'invalid' | 'expired';

export interface MacaroonAuthOptions {
  /** root key of dashboard macaroons */
  dashboardKey: Buffer;
  /** key the SSO uses to open caveat ids */
  ssoKey: Buffer;
  dashboardLocation: string;
  ssoLocation: string;
  /** how long a discharge is good for */
  dischargeTtlMs: number;
  now: () => Date;
}

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
      const d = createDecipheriv('aes-256-gcm', this.o.ssoKey, b.subarray(0, 12));
      d.setAuthTag(b.subarray(b.length - 16));
      return Buffer.concat([d.update(b.subarray(12, b.length - 16)), d.final()]);
    } catch {
      return undefined;
    }
  }

  /** A discharge for a caveat id, naming the account; undefined when the caveat id is not ours. */
  discharge(caveatId: string, accountId: string): string | undefined {
    const key = this.caveatKey(caveatId);
    if (!key) return undefined;
    const d = newMacaroon(key, caveatId, this.o.ssoLocation);
    d.addFirstPartyCaveat(`account-id=${accountId}`);
    d.addFirstPartyCaveat(`expires=${new Date(this.o.now().getTime() + this.o.dischargeTtlMs).toISOString()}`);
    return serializeMacaroon(d);
  }

  /** The account a discharge speaks for (any expiry), for refreshing it. */
  dischargeAccount(discharge: string): { caveatId: string; accountId: string; expires: Date } | undefined {
    try {
      const d = deserializeMacaroon(discharge);
      const caveatId = Buffer.from(d.identifier).toString('utf8');
      const key = this.caveatKey(caveatId);
      if (!key) return undefined;
      let accountId: string | undefined;
      let expires = new Date(0);
      d.verify(key, (cond) => {
        if (cond.startsWith('account-id=')) accountId = cond.slice(11);
        if (cond.startsWith('expires=')) expires = new Date(cond.slice(8));
        return null;
      });
      return accountId ? { caveatId, accountId, expires } : undefined;
    } catch {
      return undefined;
    }
  }

  /** Checks an Authorization header; gives the account id or why not. */
  check(header: string | undefined): { accountId: string } | { failure: AuthFailure; message: string } {
    const auth = parseAuthorization(header);
    if (!auth) return { failure: 'missing', message: 'Authorization Required' };
    let accountId: string | undefined;
    let expired = false;
    try {
      const root = deserializeMacaroon(auth.root);
      const discharges = auth.discharges.map(deserializeMacaroon);
      if (thirdPartyCaveatId(root, this.o.ssoLocation) === undefined) return { failure: 'invalid', message: 'Invalid macaroon' };
      root.verify(this.o.dashboardKey, (cond) => {
        if (cond.startsWith('permissions=')) return null;
        if (cond.startsWith('account-id=')) {
          accountId = cond.slice(11);
          return null;
        }
        if (cond.startsWith('expires=')) {
          if (!(Date.parse(cond.slice(8)) > this.o.now().getTime())) expired = true;
          return null;
        }
        return 'unknown caveat';
      }, discharges);
    } catch {
      return { failure: 'invalid', message: 'Invalid macaroon' };
    }
    if (expired) return { failure: 'expired', message: 'Expired macaroon (needs refresh)' };
    if (!accountId) return { failure: 'invalid', message: 'Invalid macaroon' };
    return { accountId };
  }
}
