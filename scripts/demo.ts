/**
 * The coreforge demo: a throwaway coreforged (temporary socket and state dir)
 * driven through the real CLI, step by step, with a report at the end.
 * What each step shows is what a device maker would run by hand.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { runCli, realDaemonEntry, startDaemon } from '../test/helpers/daemon.js';
import { makeTempDir } from '../test/helpers/tmp.js';

interface Step {
  title: string;
  args: string[];
}

const steps: Step[] = [
  { title: 'Check the host tools coreforge relies on', args: ['doctor'] },
  { title: 'Versions of the CLI and the daemon', args: ['version'] },
  { title: 'Long operations (changes) recorded in state.db', args: ['changes'] },
];

const tmp = await makeTempDir('coreforge-demo-');
const report: { step: string; seconds: number; exit: number }[] = [];
const daemon = await startDaemon({
  entry: realDaemonEntry,
  socketPath: join(tmp.dir, 'coreforge.socket'),
  stateDir: join(tmp.dir, 'state'),
  env: { COREFORGE_LOG_LEVEL: 'warn' },
});
let failed = false;
try {
  console.log(`coreforged is running on ${daemon.socketPath} (state in ${daemon.stateDir})\n`);
  for (const step of steps) {
    console.log(`== ${step.title}\n$ coreforge ${step.args.join(' ')}`);
    const started = Date.now();
    const result = await runCli(step.args, { socketPath: daemon.socketPath });
    process.stdout.write(result.stdout);
    process.stderr.write(result.stderr);
    report.push({ step: step.title, seconds: (Date.now() - started) / 1000, exit: result.code });
    if (result.code !== 0) {
      failed = true;
      break;
    }
    console.log();
  }
  console.log('== The API is plain HTTP on the socket, as with snapd:');
  console.log(`$ curl --unix-socket ${daemon.socketPath} http://localhost/v1/system-info`);
  await new Promise<void>((resolve) => {
    const curl = spawn('curl', ['-s', '--unix-socket', daemon.socketPath, 'http://localhost/v1/system-info'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    curl.stdout.on('data', (d: Buffer) => (out += d.toString()));
    curl.on('exit', () => {
      console.log(out.slice(0, 300) + (out.length > 300 ? '...' : '') + '\n');
      resolve();
    });
    curl.on('error', () => resolve());
  });
} finally {
  await daemon.stop();
  await tmp.cleanup();
}

console.log('== Report');
for (const r of report) console.log(`${r.exit === 0 ? 'ok  ' : 'FAIL'}  ${r.seconds.toFixed(2).padStart(6)} s  ${r.step}`);
console.log(
  '\nComing next in this demo as the issues land: create-key, register-key with the embedded store,\n' +
    'signing the Raspberry Pi 3 and UC20 pc models, building their images, flashing to a loop device.',
);
process.exitCode = failed ? 1 : 0;
