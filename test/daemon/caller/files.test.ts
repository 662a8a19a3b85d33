// daemon/caller/files.ts as another user (uid 4242): what it may open, create and rename is what
// the kernel lets that user do, whatever root could.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { lstatSync, mkdirSync, readFileSync, readdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { callerOfSocket, type Caller } from '../../../daemon/caller/caller.js';
import { openInput, OutputDir, PrivateDir, readInput } from '../../../daemon/caller/files.js';
import { member, memberDir, runAs } from '../../helpers/caller.js';
import { makeTempDir } from '../../helpers/tmp.js';

const caller: Caller = { pid: 0, uid: member.uid, gid: member.gid, groups: [] };
let tmp: { dir: string; cleanup(): Promise<void> };
let home: string;

before(async () => {
  tmp = await makeTempDir('coreforge-caller-');
  execFileSync('chmod', ['755', tmp.dir]);
  home = await memberDir(join(tmp.dir, 'home'));
});
after(() => tmp.cleanup());

test('the peer of a Unix socket connection is who the kernel says connected', async () => {
  const path = join(tmp.dir, 'peer.sock');
  const seen = new Promise<Caller>((resolve) => {
    const server = createServer((s) => {
      resolve(callerOfSocket(s));
      s.end();
      server.close();
    });
    server.listen(path, () => execFileSync('chmod', ['777', path]));
  });
  await new Promise((r) => setTimeout(r, 100));
  const client = await runAs(process.execPath, ['-e', `require('net').connect(${JSON.stringify(path)}).on('data', () => {}).on('end', () => process.exit(0))`]);
  assert.equal(client.code, 0, client.stderr);
  const peer = await seen;
  assert.deepEqual([peer.uid, peer.gid], [member.uid, member.gid]);
});

test('inputs are opened with the caller\'s rights, regular files only', () => {
  const secret = join(tmp.dir, 'secret');
  writeFileSync(secret, 'root only', { mode: 0o600 });
  assert.throws(() => openInput(caller, secret, 'snap file'), { kind: 'permission-denied', message: /^cannot read snap file .*secret: uid 4242 may not read it \(EACCES\)/ });
  const mine = join(home, 'mine');
  writeFileSync(mine, 'mine');
  assert.equal(readInput(caller, mine, 'model', 100).toString(), 'mine');
  assert.throws(() => readInput(caller, mine, 'model', 2), { kind: 'file-too-large' });
  const fifo = join(home, 'fifo');
  execFileSync('mkfifo', [fifo]);
  assert.throws(() => openInput(caller, fifo, 'image'), { kind: 'not-a-regular-file', message: /it is a FIFO; name a regular file$/ });
  assert.throws(() => openInput(caller, '/dev/zero', 'image'), { kind: 'not-a-regular-file', message: /it is a character device/ });
  assert.throws(() => openInput(caller, 'relative', 'image'), { message: /must be an absolute path/ });
  // a symlink is followed as the caller would follow it: to a file it may not read, refused
  symlinkSync(secret, join(home, 'link'));
  assert.throws(() => openInput(caller, join(home, 'link'), 'image'), { kind: 'permission-denied' });
});

test('outputs are created exclusively as the caller, never through a symlink, and renamed within the directory', () => {
  const out = join(home, 'out');
  const dir = OutputDir.open(caller, out, 'output directory');
  try {
    const victim = join(tmp.dir, 'victim');
    writeFileSync(victim, 'root file');
    symlinkSync(victim, join(out, 'pc.img'));
    const file = dir.create('pc.img');
    writeFileSync(file.path, 'image');
    file.close();
    dir.commit(file);
    assert.equal(readFileSync(victim, 'utf8'), 'root file');
    const st = lstatSync(join(out, 'pc.img'));
    assert.ok(st.isFile());
    assert.deepEqual([st.uid, st.mode & 0o777], [member.uid, 0o644]);
    assert.deepEqual(readdirSync(out), ['pc.img']);
  } finally {
    dir.close();
  }
  const rootOwned = join(tmp.dir, 'root-owned');
  mkdirSync(rootOwned, { mode: 0o755 });
  assert.throws(() => OutputDir.open(caller, join(rootOwned, 'sub'), 'output directory'), { kind: 'permission-denied' });
  const readOnly = OutputDir.open(caller, rootOwned, 'output directory');
  try {
    assert.throws(() => readOnly.create('x.img'), { kind: 'permission-denied', message: /uid 4242 may not write there/ });
  } finally {
    readOnly.close();
  }
});

test('a private work dir is the daemon\'s while used, refused once replaced, and the caller\'s once handed over', async () => {
  const parent = await memberDir(join(home, 'work'));
  const made = PrivateDir.create(caller, parent, 'w1', 'work directory');
  const expect = { dev: made.dev, ino: made.ino };
  assert.deepEqual([lstatSync(join(parent, 'w1')).uid, lstatSync(join(parent, 'w1')).mode & 0o777], [0, 0o700]);
  mkdirSync(join(made.path, 'sub'));
  writeFileSync(join(made.path, 'sub/file'), 'x');
  assert.notEqual((await runAs('touch', [join(parent, 'w1/sub/intruder')])).code, 0, 'the caller cannot write inside');
  made.close();
  renameSync(join(parent, 'w1'), join(parent, 'w1.moved'));
  await memberDir(join(parent, 'w1'));
  assert.throws(() => PrivateDir.reopen(caller, parent, 'w1', expect, 'work directory'), { message: /is not the directory coreforged made there/ });
  renameSync(join(parent, 'w1'), join(parent, 'w1.caller'));
  renameSync(join(parent, 'w1.moved'), join(parent, 'w1'));
  const again = PrivateDir.reopen(caller, parent, 'w1', expect, 'work directory');
  await again.handOver(caller);
  again.close();
  for (const p of ['w1', 'w1/sub', 'w1/sub/file']) assert.equal(lstatSync(join(parent, p)).uid, member.uid, p);
  assert.equal((await runAs('rm', ['-rf', join(parent, 'w1')])).code, 0);
});
