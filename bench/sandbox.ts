/**
 * Sandbox start overhead per command: `runCommand` of `true`, plain vs inside bubblewrap (without
 * and with network), N times each, interleaved so drift on a shared machine hits both alike. Prints a markdown table of
 * p50 / p99 per mode and their difference (goal: ≤ 50 ms p50 overhead).
 *
 * Usage: node --import tsx bench/sandbox.ts [--runs N]. Needs bwrap (apt-get install bubblewrap).
 * Not part of the test run: this measures, it does not assert.
 */
import { mkdtemp, realpath, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { detectSandbox } from '../services/sandbox/bubblewrap';
import { runCommand } from '../services/tools/run-command';

const runsFlag = process.argv.indexOf('--runs');
const RUNS = runsFlag > 0 ? Number(process.argv[runsFlag + 1]) : 200;
const WARMUP = 10;

/** Nearest rank, as in bench/orchestration.ts. */
function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

async function main() {
  const info = await detectSandbox();
  if (!info.available) {
    console.error(`no sandbox: ${info.reason}`);
    process.exit(1);
  }
  const workspace = await realpath(await mkdtemp(path.join(os.tmpdir(), 'bench-sandbox-')));
  try {
    const input = { command: 'true', timeoutSeconds: 30 };
    type Mode = 'plain' | 'sandbox' | 'sandbox+net';
    const once = async (mode: Mode) => {
      const sandbox = mode === 'plain' ? undefined : { workspace, allowNetwork: mode === 'sandbox+net' };
      const started = performance.now();
      const result = await runCommand(workspace, input, { sandbox });
      const ms = performance.now() - started;
      if (result.exitCode !== 0) throw new Error(`\`true\` failed (${mode}): ${JSON.stringify(result)}`);
      return ms;
    };
    for (let i = 0; i < WARMUP; i++) for (const mode of ['plain', 'sandbox', 'sandbox+net'] as const) await once(mode);
    const plain: number[] = [];
    const boxed: number[] = [];
    const boxedNet: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      plain.push(await once('plain'));
      boxed.push(await once('sandbox'));
      boxedNet.push(await once('sandbox+net'));
    }
    const stats = (samples: number[]) => {
      const sorted = [...samples].sort((a, b) => a - b);
      return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), mean: samples.reduce((a, b) => a + b, 0) / samples.length };
    };
    const p = stats(plain);
    const b = stats(boxed);
    const n = stats(boxedNet);
    const f = (ms: number) => ms.toFixed(2);
    console.error(`${info.reason}; ${os.cpus().length} CPUs, Node ${process.version}, ${RUNS} runs each after ${WARMUP} warm-up`);
    console.log('| mode | runs | p50 (ms) | p99 (ms) | mean (ms) |');
    console.log('| --- | ---: | ---: | ---: | ---: |');
    console.log(`| plain \`/bin/bash -c true\` | ${RUNS} | ${f(p.p50)} | ${f(p.p99)} | ${f(p.mean)} |`);
    console.log(`| bubblewrap (no network) | ${RUNS} | ${f(b.p50)} | ${f(b.p99)} | ${f(b.mean)} |`);
    console.log(`| **overhead** (bubblewrap − plain) | | **${f(b.p50 - p.p50)}** | ${f(b.p99 - p.p99)} | ${f(b.mean - p.mean)} |`);
    console.log(`| bubblewrap, allowNetwork | ${RUNS} | ${f(n.p50)} | ${f(n.p99)} | ${f(n.mean)} |`);
    console.log(`| overhead (allowNetwork − plain) | | ${f(n.p50 - p.p50)} | ${f(n.p99 - p.p99)} | ${f(n.mean - p.mean)} |`);
    console.log(`\nsandbox start overhead p50 ${f(b.p50 - p.p50)} ms (goal ≤ 50 ms): ${b.p50 - p.p50 <= 50 ? 'met' : 'NOT met'}`);
  } finally {
    await rm(workspace, { recursive: true, force: true });
  }
}

await main();
