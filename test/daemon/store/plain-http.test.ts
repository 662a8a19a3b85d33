import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { getBody } from '../../../daemon/store/client/body.js';
import { FileAppender } from '../../../daemon/store/client/file-appender.js';
import { parseResponseHead, plainHttpGet } from '../../../daemon/store/client/plain-http.js';
import { makeTempDir } from '../../helpers/tmp.js';

/** A TCP server answering each connection with what `answer` writes for the request it read. */
function rawServer(answer: (socket: Socket, request: string) => void): Promise<{ url: string; requests: string[]; close(): Promise<void> }> {
  const requests: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    let text = '';
    socket.on('data', (d) => {
      text += d.toString('latin1');
      if (!text.includes('\r\n\r\n')) return;
      requests.push(text);
      answer(socket, text);
    });
    socket.on('error', () => {});
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      resolve({
        url: `http://127.0.0.1:${port}`,
        requests,
        close: () =>
          new Promise<void>((r) => {
            for (const s of sockets) s.destroy();
            server.close(() => r());
          }),
      });
    }),
  );
}

async function readAll(url: string, headers: Record<string, string> = {}, signal?: AbortSignal) {
  const res = await getBody(url, headers, signal);
  const pieces: Buffer[] = [];
  await res.read((p) => void pieces.push(Buffer.from(p)));
  return { status: res.status, body: Buffer.concat(pieces) };
}

describe('plain HTTP downloads into a reused buffer', () => {
  const body = randomBytes(3 * 1024 * 1024 + 17);

  it('receives a body sized by Content-Length across many reads, with the request a store expects', async () => {
    const s = await rawServer((socket) => {
      socket.write(`HTTP/1.1 206 Partial Content\r\nContent-Length: ${body.length}\r\nX-Twice: a\r\nx-twice: b\r\n\r\n`);
      // in small writes, so that the head and the body arrive in pieces of every size
      for (let at = 0; at < body.length; at += 65_537) socket.write(body.subarray(at, at + 65_537));
    });
    try {
      const got = await readAll(`${s.url}/api/v1/snaps/download/x_1.snap?a=b`, { range: 'bytes=5-' });
      assert.equal(got.status, 206);
      assert.ok(got.body.equals(body));
      assert.match(s.requests[0]!, /^GET \/api\/v1\/snaps\/download\/x_1\.snap\?a=b HTTP\/1\.1\r\nHost: 127\.0\.0\.1:\d+\r\n/);
      assert.match(s.requests[0]!, /\r\nrange: bytes=5-\r\n/);
    } finally {
      await s.close();
    }
  });

  it('reads a body without Content-Length until the connection ends', async () => {
    const s = await rawServer((socket) => socket.end(Buffer.concat([Buffer.from('HTTP/1.0 200 OK\r\n\r\n'), body])));
    try {
      assert.ok((await readAll(`${s.url}/f`)).body.equals(body));
    } finally {
      await s.close();
    }
  });

  it('pauses the connection while the consumer is busy, and gets every byte', async () => {
    const s = await rawServer((socket) => socket.end(Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n`), body])));
    try {
      const res = await getBody(`${s.url}/f`, {});
      const pieces: Buffer[] = [];
      let waits = 0;
      await res.read((p) => {
        pieces.push(Buffer.from(p));
        waits++;
        return new Promise((r) => setTimeout(r, 2));
      });
      assert.ok(waits > 1);
      assert.ok(Buffer.concat(pieces).equals(body));
    } finally {
      await s.close();
    }
  });

  it('leaves a chunked response to node:http, which decodes it', async () => {
    const s = await rawServer((socket) => socket.end(`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n`));
    try {
      assert.equal(await plainHttpGet(new URL(`${s.url}/f`), {}), undefined);
      assert.equal((await readAll(`${s.url}/f`)).body.toString(), 'hello world');
      // the direct call, then getBody: its own receiver first, node:http second
      assert.equal(s.requests.length, 3);
      assert.doesNotMatch(s.requests[2]!, /Connection: close/, 'the last request is node:http\'s');
    } finally {
      await s.close();
    }
  });

  const refused: [string, string, RegExp][] = [
    ['a body cut before its Content-Length', `HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this`, /closed the connection before the whole response arrived/],
    ['a status line that is not HTTP', 'SSH-2.0-OpenSSH_9.2\r\n\r\n', /is not HTTP: the status line "SSH-2\.0-OpenSSH_9\.2" is not HTTP\/1\.x/],
    ['a header line without a name', 'HTTP/1.1 200 OK\r\n: x\r\n\r\n', /the header line ": x" has no name/],
    ['a bad Content-Length', 'HTTP/1.1 200 OK\r\nContent-Length: 12abc\r\n\r\n', /bad Content-Length "12abc"/],
    ['a head longer than 64 KiB', `HTTP/1.1 200 OK\r\n${'X-Pad: y\r\n'.repeat(8000)}`, /response head from 127\.0\.0\.1:\d+ is longer than 65536 bytes/],
    ['a connection closed before any answer', '', /closed .*before the whole response arrived/],
  ];
  for (const [what, answer, error] of refused) {
    it(`refuses ${what}, naming the server`, async () => {
      const s = await rawServer((socket) => socket.end(answer));
      try {
        await assert.rejects(readAll(`${s.url}/f`), (err: NodeJS.ErrnoException) => error.test(err.message) && ['ECONNRESET', 'EPROTO'].includes(err.code ?? ''));
      } finally {
        await s.close();
      }
    });
  }

  it('gives up on a server that goes silent, with ETIMEDOUT', async () => {
    const s = await rawServer((socket) => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc'));
    try {
      const res = (await plainHttpGet(new URL(`${s.url}/f`), {}, undefined, 200))!;
      await assert.rejects(res.read(() => {}), { code: 'ETIMEDOUT', message: /sent nothing for 0\.2 s/ });
    } finally {
      await s.close();
    }
  });

  it('stops when its signal is aborted mid-body', async () => {
    const s = await rawServer((socket) => socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${'x'.repeat(1000)}`));
    try {
      const abort = new AbortController();
      const res = await getBody(`${s.url}/f`, {}, abort.signal);
      await assert.rejects(
        res.read(() => abort.abort(new Error('stopped by the test'))),
        /stopped by the test/,
      );
    } finally {
      await s.close();
    }
  });
});

describe('FileAppender', () => {
  let dir: { dir: string; cleanup(): Promise<void> };
  before(async () => (dir = await makeTempDir('coreforge-appender-')));
  after(() => dir.cleanup());

  it('writes pieces in order after what the file holds, and asks the caller to wait when writes fall behind', async () => {
    const path = join(dir.dir, 'partial');
    const data = randomBytes(5 * 1024 * 1024 + 333);
    const file = await open(path, 'w');
    await file.write(data.subarray(0, 1000), 0, 1000, 0);
    const out = new FileAppender(file, 1000, 2 << 20);
    let waits = 0;
    const piece = Buffer.alloc(200_000);
    for (let at = 1000; at < data.length; at += piece.length) {
      const n = data.copy(piece, 0, at, Math.min(data.length, at + piece.length));
      const wait = out.append(piece.subarray(0, n));
      // the piece's memory is reused at once, as the receive buffer is
      piece.fill(0);
      if (wait) {
        waits++;
        await wait;
      }
    }
    await out.close();
    await file.close();
    assert.ok(waits > 0, 'the queue filled at least once');
    assert.ok((await readFile(path)).equals(data));
  });

  it('reports a write error on the next append or at close', async () => {
    const path = join(dir.dir, 'read-only');
    await (await open(path, 'w')).close();
    const file = await open(path, 'r');
    const out = new FileAppender(file, 0);
    out.append(Buffer.alloc(2 << 20));
    await assert.rejects(out.close(), { code: 'EBADF' });
    await file.close();
  });
});
