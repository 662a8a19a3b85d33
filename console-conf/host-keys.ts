/** Host key fingerprints as `ssh-keygen -l` prints them (SHA256, unpadded base64). */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { PATHS, underRoot } from './paths.js';

export interface Fingerprint {
  bits: number;
  sha256: string;
  label: string;
}

const LABELS: Record<string, string> = {
  'ssh-rsa': 'RSA',
  'ssh-ed25519': 'ED25519',
  'ssh-dss': 'DSA',
  'ecdsa-sha2-nistp256': 'ECDSA',
  'ecdsa-sha2-nistp384': 'ECDSA',
  'ecdsa-sha2-nistp521': 'ECDSA',
};

/** The fingerprint of one public key line, or undefined when it is not one. */
export function fingerprint(line: string): Fingerprint | undefined {
  const [type = '', data = ''] = line.trim().split(/\s+/);
  if (!LABELS[type] || !/^[A-Za-z0-9+/]+={0,2}$/.test(data)) return undefined;
  const blob = Buffer.from(data, 'base64');
  const sha256 = 'SHA256:' + createHash('sha256').update(blob).digest('base64').replace(/=+$/, '');
  return { bits: keyBits(type, blob), sha256, label: LABELS[type]! };
}

function keyBits(type: string, blob: Buffer): number {
  if (type === 'ssh-ed25519') return 256;
  if (type.startsWith('ecdsa-sha2-nistp')) return Number(type.slice('ecdsa-sha2-nistp'.length));
  // ssh-rsa: string type, mpint e, mpint n; ssh-dss: string type, mpint p, ...
  let off = 0;
  const next = () => {
    const n = blob.readUInt32BE(off);
    const v = blob.subarray(off + 4, off + 4 + n);
    off += 4 + n;
    return v;
  };
  next();
  const first = next();
  const n = type === 'ssh-rsa' ? next() : first;
  let i = 0;
  while (i < n.length && n[i] === 0) i++;
  if (i === n.length) return 0;
  return (n.length - i - 1) * 8 + (32 - Math.clz32(n[i]!));
}

/** Fingerprints of ROOT/etc/ssh/ssh_host_*_key.pub, sorted by file name. */
export async function hostKeyFingerprints(root: string): Promise<Fingerprint[]> {
  const dir = underRoot(root, PATHS.sshDir);
  const names = await readdir(dir).catch(() => [] as string[]);
  const out: Fingerprint[] = [];
  for (const n of names.filter((n) => /^ssh_host_.*_key\.pub$/.test(n)).sort()) {
    const fp = fingerprint(await readFile(`${dir}/${n}`, 'utf8').catch(() => ''));
    if (fp) out.push(fp);
  }
  return out;
}
