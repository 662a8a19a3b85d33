/**
 * The snapd backend: asks snapd on its Unix socket to create the user from the
 * store account (`POST /v2/users`), and reads `GET /v2/system-info` to learn
 * whether the device is already managed.
 */
import { request } from 'node:http';
import { ccError } from './errors.js';
import { writeMarker, type Owner } from './marker.js';

export interface SnapdCreated {
  username: string;
  sshKeys: string[];
}

/** A minimal client for snapd's JSON envelope over its socket. */
export class SnapdClient {
  constructor(readonly socketPath: string) {}

  /** One request; resolves with `result` of a sync response, throws snapd-failed with snapd's own message otherwise. */
  call(method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = request(
        {
          socketPath: this.socketPath,
          method,
          path,
          headers: { host: 'localhost', ...(payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}) },
          timeout: 60_000,
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.on('end', () => {
            let env: { type?: string; result?: unknown };
            try {
              env = JSON.parse(text) as typeof env;
            } catch {
              reject(ccError('snapd-failed', `cannot read snapd's answer to ${method} ${path}: it is not JSON; check that ${this.socketPath} is snapd`));
              return;
            }
            if (env.type === 'error') {
              const msg = String((env.result as { message?: unknown } | undefined)?.message ?? 'unknown error');
              reject(ccError('snapd-failed', `cannot ${describe(method, path)}: snapd says "${msg}"`));
              return;
            }
            resolve(env.result);
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error('timed out')));
      req.on('error', (err) =>
        reject(ccError('snapd-failed', `cannot reach snapd at ${this.socketPath}: ${(err as NodeJS.ErrnoException).code ?? err.message}; check that snapd is running`)),
      );
      req.end(payload);
    });
  }

  /** Whether snapd already has a user ("managed" in /v2/system-info). */
  async managed(): Promise<boolean> {
    const info = (await this.call('GET', '/v2/system-info')) as { managed?: unknown } | undefined;
    return info?.managed === true;
  }

  /** The first user snapd knows of (from GET /v2/users), for the login details of a managed device. */
  async firstUser(): Promise<{ username: string; email: string } | undefined> {
    const users = (await this.call('GET', '/v2/users')) as { username?: string; email?: string }[] | undefined;
    const u = Array.isArray(users) ? users[0] : undefined;
    return u?.username ? { username: u.username, email: u.email ?? '' } : undefined;
  }

  /** Creates a sudoer from the store account with that email. */
  async createUser(email: string): Promise<SnapdCreated> {
    const result = await this.call('POST', '/v2/users', { action: 'create', email, sudoer: true });
    const first = Array.isArray(result) ? (result[0] as Record<string, unknown> | undefined) : undefined;
    if (!first || typeof first.username !== 'string') {
      throw ccError('snapd-failed', `cannot create a user for "${email}": snapd answered without a username; check snapd's logs`);
    }
    const keys = Array.isArray(first['ssh-keys']) ? (first['ssh-keys'] as unknown[]).map(String) : [];
    return { username: first.username, sshKeys: keys };
  }
}

function describe(method: string, path: string): string {
  if (method === 'POST' && path === '/v2/users') return 'create the user through snapd';
  return `${method} ${path} on snapd`;
}

/** The owner of a device snapd already manages, recorded in the marker; undefined when snapd has no user yet. */
export async function adoptManaged(root: string, client: SnapdClient): Promise<Owner | undefined> {
  if (!(await client.managed())) return undefined;
  const u = await client.firstUser();
  const owner: Owner = { username: u?.username ?? '', origin: u?.email ? `store account ${u.email}` : 'a user snapd already manages' };
  await writeMarker(root, owner);
  return owner;
}

/** Creates the user through snapd (or adopts the user of an already managed device) and writes the marker. */
export async function createUserSnapd(root: string, client: SnapdClient, email: string): Promise<Owner> {
  const adopted = await adoptManaged(root, client);
  if (adopted) return adopted;
  const created = await client.createUser(email);
  const owner: Owner = { username: created.username, origin: `store account ${email}` };
  await writeMarker(root, owner);
  return owner;
}
