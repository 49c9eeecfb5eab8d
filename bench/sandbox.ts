/**
 * Sandbox start overhead per command: `runCommand` of `true`, plain vs inside bubblewrap: in an
 * empty workspace, in this repository (the protected-path walk has real work to do), and with a
 * network grant (a proxy per command plus the socat bridge inside). N times each, interleaved so
 * drift on a shared machine hits all alike. Prints a markdown table of p50 / p99 per mode and their
 * difference from plain (goal: ≤ 50 ms p50 overhead without network), with the load average.
 *
 * Usage: node --import tsx bench/sandbox.ts [--runs N]. Needs bwrap (apt-get install bubblewrap).
 * Not part of the test run: this measures, it does not assert.
 */
import { mkdtemp, realpath, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { detectSandbox } from '../services/sandbox/bubblewrap';
import { findProtectedPaths } from '../services/sandbox/protected-paths';
import { PROJECT_ROOT } from '../services/temporal-dev-server';
import { runCommand, type SandboxRequest } from '../services/tools/run-command';

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
    const repo = await realpath(PROJECT_ROOT);
    type Mode = 'plain' | 'sandbox' | 'sandbox-repo' | 'sandbox+net';
    const once = async (mode: Mode) => {
      const where = mode === 'sandbox-repo' ? repo : workspace;
      const sandbox: SandboxRequest | undefined =
        mode === 'plain' ? undefined : { workspace: where, network: mode === 'sandbox+net' ? { allow: ['registry.npmjs.org'], deny: [] } : null, refuse: ['localhost:7233'] };
      const started = performance.now();
      const result = await runCommand(where, input, { sandbox });
      const ms = performance.now() - started;
      if (result.exitCode !== 0) throw new Error(`\`true\` failed (${mode}): ${JSON.stringify(result)}`);
      return ms;
    };
    const modes = ['plain', 'sandbox', 'sandbox-repo', 'sandbox+net'] as const;
    for (let i = 0; i < WARMUP; i++) for (const mode of modes) await once(mode);
    const load = os.loadavg();
    const plain: number[] = [];
    const boxed: number[] = [];
    const boxedRepo: number[] = [];
    const boxedNet: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      plain.push(await once('plain'));
      boxed.push(await once('sandbox'));
      boxedRepo.push(await once('sandbox-repo'));
      boxedNet.push(await once('sandbox+net'));
    }
    const walkStarted = performance.now();
    const found = await findProtectedPaths(repo);
    const walkMs = performance.now() - walkStarted;
    const stats = (samples: number[]) => {
      const sorted = [...samples].sort((a, b) => a - b);
      return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), mean: samples.reduce((a, b) => a + b, 0) / samples.length };
    };
    const p = stats(plain);
    const b = stats(boxed);
    const r = stats(boxedRepo);
    const n = stats(boxedNet);
    const f = (ms: number) => ms.toFixed(2);
    console.error(
      `${info.reason}; ${os.cpus().length} CPUs, Node ${process.version}, ${RUNS} runs each after ${WARMUP} warm-up; load average ${load.map((l) => l.toFixed(2)).join(' ')}`,
    );
    console.log('| mode | runs | p50 (ms) | p99 (ms) | mean (ms) | p50 overhead vs plain (ms) |');
    console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
    console.log(`| plain \`/bin/bash -c true\` | ${RUNS} | ${f(p.p50)} | ${f(p.p99)} | ${f(p.mean)} | |`);
    console.log(`| bubblewrap, no network, empty workspace | ${RUNS} | ${f(b.p50)} | ${f(b.p99)} | ${f(b.mean)} | **${f(b.p50 - p.p50)}** |`);
    console.log(
      `| bubblewrap, no network, this repository (${found.readOnly.length + found.masked.length} protected paths) | ${RUNS} | ${f(r.p50)} | ${f(r.p99)} | ${f(r.mean)} | **${f(r.p50 - p.p50)}** |`,
    );
    console.log(`| bubblewrap + network proxy (socat bridge) | ${RUNS} | ${f(n.p50)} | ${f(n.p99)} | ${f(n.mean)} | ${f(n.p50 - p.p50)} |`);
    console.log(`\nprotected-path walk of this repository alone: ${f(walkMs)} ms`);
    const worst = Math.max(b.p50, r.p50) - p.p50;
    console.log(`sandbox start overhead without network p50 ≤ ${f(worst)} ms (goal ≤ 50 ms): ${worst <= 50 ? 'met' : 'NOT met'}`);
  } finally {
    await rm(workspace, { recursive: true, force: true });
  }
}

await main();
