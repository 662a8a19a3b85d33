// The local store's two private keys (root, store), RSA-4096, kept in
// STATE/store/keys: the directory 0700, every file 0600, written to a
// temporary name and renamed. The keys are PKCS#8 encrypted (AES-256-CBC,
// scrypt-derived) with a random secret kept in the same directory: this does
// not protect against someone who can read the whole state dir (coreforged
// must sign unattended, so the secret has to be readable by it), but a copy of
// a key file alone (a backup, a mistaken upload) is useless.
import { generateKeyPair, randomBytes, createPrivateKey, type KeyObject } from 'node:crypto';
import { chmod, mkdir, open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';

/** Makes a new RSA private key; injected so tests can share one or use smaller keys. */
export type StoreKeyGenerator = () => Promise<KeyObject>;

/** RSA-4096 from node's native generator (off the event loop; about a second). */
export const rsa4096: StoreKeyGenerator = () =>
  new Promise((resolve, reject) =>
    generateKeyPair('rsa', { modulusLength: 4096 }, (err, _pub, priv) => (err ? reject(err) : resolve(priv))),
  );

/** Writes a file 0600 under a temporary name, syncs it and renames it into place. */
export async function writePrivateFile(path: string, data: string | Buffer): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  const fh = await open(tmp, 'wx', 0o600);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
}

/** The key directory of the local store. */
export class StoreKeyFiles {
  constructor(private readonly dir: string) {}

  private async secret(): Promise<string> {
    const path = join(this.dir, 'secret');
    try {
      return (await readFile(path, 'utf8')).trim();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      await mkdir(this.dir, { recursive: true, mode: 0o700 });
      await chmod(this.dir, 0o700);
      const s = randomBytes(32).toString('hex');
      await writePrivateFile(path, `${s}\n`);
      return s;
    }
  }

  /** Stores a private key under a name (root, store), encrypted at rest. */
  async save(name: string, key: KeyObject): Promise<void> {
    const passphrase = await this.secret();
    const pem = key.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase });
    await writePrivateFile(join(this.dir, `${name}.pem`), pem);
  }

  /** Loads a private key saved by save(); undefined when there is none. */
  async load(name: string): Promise<KeyObject | undefined> {
    let pem: string;
    try {
      pem = await readFile(join(this.dir, `${name}.pem`), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    return createPrivateKey({ key: pem, format: 'pem', passphrase: await this.secret() });
  }
}
