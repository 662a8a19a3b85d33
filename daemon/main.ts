#!/usr/bin/env node
import { runDaemonMain } from './run.js';

process.exitCode = await runDaemonMain(process.argv.slice(2), process.env);
// Open handles (socket.io timers, sqlite) must not keep a stopped daemon alive.
process.exit();
