#!/usr/bin/env node
// Runs the TypeScript CLI through tsx, so there is no build step and no build output to go stale.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli/cli.ts');
process.exitCode = await main(process.argv.slice(2));
// Open handles (gRPC channels, worker threads) must not keep a finished command alive.
setTimeout(() => process.exit(process.exitCode), 50).unref();
