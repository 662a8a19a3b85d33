/**
 * bench/api: GET /v1/system-info over the Unix socket at 1, 10 and 50
 * concurrent keep-alive clients against a real coreforged process.
 * Run: node --import tsx bench/api.ts [--requests N]
 * Target (issue #2): p99 under 20 ms at 50 concurrent clients on 2 cores.
 */
import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startDaemon } from '../test/helpers/daemon.js';
import { makeTempDir } from '../test/helpers/tmp.js';

const { values } = parseArgs({ options: { requests: { type: 'string', default: '5000' } } });
const perLevel = Number(values.requests);

function agentFor(socketPath: string): Agent {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  (agent as unknown as { createConnection: () => unknown }).createConnection = () => connect(socketPath);
  return agent;
}

function get(agent: Agent, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request({ agent, host: 'localhost', path }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end();
  });
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

async function level(socketPath: string, clients: number, total: number) {
  const latencies: number[] = [];
  let issued = 0;
  const agents = Array.from({ length: clients }, () => agentFor(socketPath));
  // Warm-up: open every connection once.
  await Promise.all(agents.map((a) => get(a, '/v1/system-info')));
  const started = process.hrtime.bigint();
  await Promise.all(
    agents.map(async (agent) => {
      while (issued < total) {
        issued++;
        const t0 = process.hrtime.bigint();
        await get(agent, '/v1/system-info');
        latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  for (const a of agents) a.destroy();
  latencies.sort((a, b) => a - b);
  return { clients, requests: latencies.length, rps: latencies.length / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

const tmp = await makeTempDir('coreforge-bench-api-');
const daemon = await startDaemon({ socketPath: join(tmp.dir, 'bench.sock'), stateDir: join(tmp.dir, 'state'), env: { COREFORGE_LOG_LEVEL: 'warn' } });
try {
  const rows = [];
  for (const clients of [1, 10, 50]) rows.push(await level(daemon.socketPath, clients, perLevel));
  console.log(`GET /v1/system-info over a Unix socket, ${perLevel} requests per level, keep-alive`);
  console.log('clients  req/s    p50 ms  p99 ms');
  for (const r of rows) console.log(`${String(r.clients).padEnd(8)} ${r.rps.toFixed(0).padEnd(8)} ${r.p50.toFixed(2).padEnd(7)} ${r.p99.toFixed(2)}`);
  const at50 = rows.at(-1)!;
  console.log(`target p99 < 20 ms at 50 clients: ${at50.p99 < 20 ? 'met' : 'NOT met'} (${at50.p99.toFixed(2)} ms)`);
} finally {
  await daemon.stop();
  await tmp.cleanup();
}
