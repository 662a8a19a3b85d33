// A store login on disk (root's: STATE/store-credentials.json; another user's:
// STATE/store-credentials/UID.json), 0600, written to a
// temporary name and renamed. Holds the root macaroon and its (unbound) discharge.
import { mkdir, readFile, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { writePrivateFile } from '../local/keys.js';

export interface Credentials {
  email: string;
  /** the dashboard's root macaroon (serialized) */
  root: string;
  /** the SSO's discharge, unbound (bound per request) */
  discharge: string;
  /** the account id the dashboard gave at login */
  accountId: string;
}

/** Reads, writes and removes the credentials file. */
export class CredentialsFile {
  constructor(readonly path: string) {}

  async load(): Promise<Credentials | undefined> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    const c = JSON.parse(text) as Partial<Credentials>;
    if (typeof c.email !== 'string' || typeof c.root !== 'string' || typeof c.discharge !== 'string' || typeof c.accountId !== 'string') return undefined;
    return c as Credentials;
  }

  async save(c: Credentials): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
    return writePrivateFile(this.path, `${JSON.stringify(c)}\n`);
  }

  /** Removes the login; true when there was one. */
  async remove(): Promise<boolean> {
    try {
      await unlink(this.path);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
  }
}
