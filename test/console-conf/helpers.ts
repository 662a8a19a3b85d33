import { createServer, type Server } from 'node:http';
import { networkInterfaces } from 'node:os';
import { createHash } from 'node:crypto';
import { lstat, mkdir, readFile, readdir, readlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { spawn as ptySpawn, type IPty } from 'node-pty';
import { makeTempDir } from '../helpers/tmp.js';

export const repoRoot = resolve(import.meta.dirname, '..', '..');
export const mainEntry = join(repoRoot, 'console-conf/main.ts');

/** A syntactically valid public key line of `type` (random key material). */
export function makeKey(type = 'ssh-ed25519', comment = 'me@laptop', seed = 1): string {
  const str = (b: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(b.length);
    return Buffer.concat([len, b]);
  };
  const body = Buffer.alloc(32, seed);
  const blob = Buffer.concat([str(Buffer.from(type)), str(body)]);
  return `${type} ${blob.toString('base64')}${comment ? ' ' + comment : ''}`;
}

export const ETC_PASSWD = 'root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\nsyslog:x:104:110::/home/syslog:/usr/sbin/nologin\nubuntu:x:1000:1000::/home/ubuntu:/bin/bash\n';
export const ETC_GROUP = 'root:x:0:\ndaemon:x:1:\nsudo:x:27:\nubuntu:x:1000:\nlxd:x:1001:\n';
export const ETC_SHADOW = 'root:*:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\nsyslog:*:19000:0:99999:7:::\nubuntu:!:19000:0:99999:7:::\n';
/** An ed25519 host key (public half only) and what ssh-keygen -l says about it. */
export const HOST_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPlsl5Ov2jttzUqkbSFmMNsj37TNIDHnHhSjcxXZKxbA root@device';

/** A temporary device root with etc/{passwd,group,shadow} and a host key; `extrausers` adds var/lib/extrausers. */
export async function makeRoot(opts: { extrausers?: boolean; sysNet?: boolean } = {}): Promise<{ root: string; cleanup(): Promise<void> }> {
  const { dir, cleanup } = await makeTempDir('console-conf-root-');
  // console-conf lists the interfaces under its root: eth0 (the name tests give addresses to) and the
  // host's own, whose real addresses a console-conf run on a pty shows
  if (opts.sysNet !== false) {
    const names = ['eth0', ...Object.entries(networkInterfaces()).filter(([, a]) => (a ?? []).some((x) => !x.internal)).map(([n]) => n)];
    for (const name of new Set(names)) {
      await mkdir(join(dir, 'sys/class/net', name), { recursive: true });
      await writeFile(join(dir, 'sys/class/net', name, 'operstate'), 'up\n');
    }
  }
  await mkdir(join(dir, 'etc/ssh'), { recursive: true });
  await mkdir(join(dir, 'etc/sudoers.d'), { recursive: true });
  await writeFile(join(dir, 'etc/passwd'), ETC_PASSWD);
  await writeFile(join(dir, 'etc/group'), ETC_GROUP);
  await writeFile(join(dir, 'etc/shadow'), ETC_SHADOW, { mode: 0o640 });
  await writeFile(join(dir, 'etc/ssh/ssh_host_ed25519_key.pub'), HOST_KEY + '\n');
  if (opts.extrausers) await mkdir(join(dir, 'var/lib/extrausers'), { recursive: true });
  return { root: dir, cleanup };
}

/**
 * Every entry under `dir` with its type, mode, owner and content (files:
 * SHA-256; symlinks: target), for "nothing was written or chowned" checks.
 * FIFOs and devices are listed, never opened.
 */
export async function treeState(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (rel: string) => {
    const path = rel ? join(dir, rel) : dir;
    const st = await lstat(path);
    const head = `${(st.mode & 0o170000).toString(8)} ${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid}`;
    if (st.isSymbolicLink()) out[rel || '.'] = `${head} -> ${await readlink(path)}`;
    else if (st.isFile()) out[rel || '.'] = `${head} ${createHash('sha256').update(await readFile(path)).digest('hex')}`;
    else out[rel || '.'] = head;
    if (st.isDirectory()) for (const e of (await readdir(path)).sort()) await walk(rel ? join(rel, e) : e);
  };
  await walk('');
  return out;
}

/** A YAML alias bomb: each level aliases the one before nine times (9^levels strings from ~45 bytes a level). */
export function aliasBomb(levels: number, indent = ''): string {
  let s = `${indent}l0: &l0 ["x","x","x","x","x","x","x","x","x"]\n`;
  for (let i = 1; i < levels; i++) s += `${indent}l${i}: &l${i} [${Array(9).fill(`*l${i - 1}`).join(',')}]\n`;
  return s;
}

export interface FakeStore {
  url: string;
  /** email -> reply body (object is JSON-encoded, string sent as is); missing -> 404 */
  sso: Map<string, unknown>;
  github: Map<string, unknown>;
  launchpad: Map<string, string>;
  requests: string[];
  close(): Promise<void>;
}

/** A tiny SSO + GitHub + Launchpad stand-in on 127.0.0.1. */
export async function startFakeStore(): Promise<FakeStore> {
  const sso = new Map<string, unknown>();
  const github = new Map<string, unknown>();
  const launchpad = new Map<string, string>();
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    const url = decodeURIComponent(req.url ?? '');
    requests.push(url);
    const send = (v: unknown) => {
      if (v === undefined) {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"code":"NOT_FOUND"}');
        return;
      }
      const body = typeof v === 'string' ? v : JSON.stringify(v);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
    };
    let m: RegExpExecArray | null;
    if ((m = /^\/api\/v2\/keys\/(.+)$/.exec(url))) return send(sso.get(m[1]!));
    if ((m = /^\/users\/([^/]+)\/keys$/.exec(url))) return send(github.get(m[1]!));
    if ((m = /^\/~([^/]+)\/\+sshkeys$/.exec(url))) return send(launchpad.get(m[1]!));
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${addr.port}`,
    sso,
    github,
    launchpad,
    requests,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

export interface PtyRun {
  pty: IPty;
  output(): string;
  waitFor(pattern: string | RegExp, timeoutMs?: number): Promise<string>;
  write(text: string): void;
  exited: Promise<number>;
}

/**
 * Runs console-conf on a pty standing in for a console. `name` says which one
 * (tty1, ttyS0) for the reader; node-pty's own `name` option is the TERM value,
 * so it gets `term` (linux on a VT, vt100 on serial).
 */
export function runOnPty(args: string[], opts: { name?: string; term?: string; cols?: number; rows?: number } = {}): PtyRun {
  const pty = ptySpawn(process.execPath, ['--import', 'tsx', mainEntry, ...args], {
    name: opts.term ?? 'linux',
    cols: opts.cols ?? 80,
    rows: opts.rows ?? 24,
    cwd: repoRoot,
    env: { ...process.env, TERM: opts.term ?? 'linux' } as Record<string, string>,
  });
  let out = '';
  const listeners = new Set<() => void>();
  pty.onData((d) => {
    out += d;
    for (const l of listeners) l();
  });
  const exited = new Promise<number>((r) => pty.onExit(({ exitCode }) => r(exitCode)));
  let seen = 0;
  return {
    pty,
    output: () => out,
    write: (t) => pty.write(t),
    exited,
    /** Waits until `pattern` appears after the previous match; resolves with the output so far. */
    waitFor(pattern, timeoutMs = 15_000) {
      return new Promise((resolveP, reject) => {
        const check = () => {
          const rest = out.slice(seen);
          const idx = typeof pattern === 'string' ? rest.indexOf(pattern) : rest.search(pattern);
          if (idx >= 0) {
            seen += idx + 1;
            listeners.delete(check);
            clearTimeout(timer);
            resolveP(out);
          }
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`timed out waiting for ${String(pattern)}; output so far:\n${out}`));
        }, timeoutMs);
        listeners.add(check);
        check();
      });
    },
  };
}
