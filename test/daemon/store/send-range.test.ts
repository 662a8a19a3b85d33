import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, writeFileSync } from 'node:fs';
import { createServer, get, type Server } from 'node:http';
import { join } from 'node:path';
import { sendFileRange } from '../../../daemon/store/server/send-range.js';
import { makeTempDir } from '../../helpers/tmp.js';

const openFds = () => readdirSync('/proc/self/fd').length;

describe('sending a file range from two reused buffers', () => {
  const data = randomBytes(5 * 1024 * 1024 + 99);
  let dir: { dir: string; cleanup(): Promise<void> };
  let server: Server;
  let url = '';
  const failures: unknown[] = [];

  before(async () => {
    dir = await makeTempDir('coreforge-send-range-');
    writeFileSync(join(dir.dir, 'blob'), data);
    // /RANGE?size=N: claims the blob has N bytes (a blob truncated on disk)
    server = createServer((req, res) => {
      const u = new URL(req.url!, 'http://x');
      const [start, end] = u.pathname.slice(1).split('-').map(Number) as [number, number];
      res.setHeader('Content-Length', String(end - start + 1));
      sendFileRange(res, join(dir.dir, 'blob'), start, end).catch((err: unknown) => failures.push(err));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await dir.cleanup();
  });

  const fetchBytes = async (path: string) => Buffer.from(await (await fetch(`${url}${path}`)).arrayBuffer());

  it('sends the whole file and ranges that cross buffers, byte for byte', async () => {
    assert.ok((await fetchBytes(`/0-${data.length - 1}`)).equals(data));
    assert.ok((await fetchBytes('/1048000-3145800')).equals(data.subarray(1048000, 3145801)));
    assert.ok((await fetchBytes('/7-7')).equals(data.subarray(7, 8)));
    assert.deepEqual(failures, []);
  });

  it('stops quietly and closes the file when the client goes away mid-body', async () => {
    const before = openFds();
    await new Promise<void>((resolve, reject) => {
      const req = get(`${url}/0-${data.length - 1}`, (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.on('error', () => {});
      setTimeout(() => reject(new Error('no data')), 5000);
    });
    for (let i = 0; i < 100 && openFds() > before; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(openFds(), before, 'the blob and the socket are closed');
    assert.deepEqual(failures, []);
    assert.ok((await fetchBytes('/0-9')).equals(data.subarray(0, 10)), 'and the server goes on');
  });

  it('cuts the response short, never padded to look complete, when the blob is shorter than its record', async () => {
    const cut = fetch(`${url}/0-${data.length + 4096}`).then((r) => r.arrayBuffer());
    await assert.rejects(cut);
    for (let i = 0; i < 100 && failures.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.match(String(failures.pop()), new RegExp(`ended at byte ${data.length}, before byte ${data.length + 4096}: the blob was truncated`));
  });
});
