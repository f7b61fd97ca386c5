#!/usr/bin/env node
import { run } from './cli.js';

const controller = new AbortController();
// The first Ctrl-C stops uploads and polls cleanly; a second one ends the process at once.
process.once('SIGINT', () => controller.abort());

process.exitCode = await run(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  stdin: process.stdin,
  signal: controller.signal,
});
