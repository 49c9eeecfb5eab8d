/**
 * Agent-team speed-up: the same plan of independent steps run by the team with workers in
 * parallel and with one worker at a time, against a fake model that takes a realistic 500 ms per
 * call. Each step is two model turns (write a file, then report) and a mechanical verifier check;
 * the task adds intent, plan, memory writer and answer calls. Also compared: one plain agentTask
 * doing the same writes in a single tool loop (no team).
 *
 * Usage: node --import tsx bench/team.ts [--quick]. Markdown on stdout, progress on stderr. Starts
 * and stops its own dev server (SQLite file), fake LLM and worker; not part of the test run.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { startFakeLlm } from '../servers/fake-llm/fake-llm-server';
import { parseScript } from '../servers/fake-llm/script';
import { startBenchAgent, startBenchDevServer } from './dev-server';

const QUICK = process.argv.includes('--quick');
const LATENCY_MS = 500;
const STEP_COUNTS = QUICK ? [4] : [2, 4, 8];
const REPEATS = QUICK ? 1 : 3;
const log = (line: string) => process.stderr.write(`${line}\n`);

function script(steps: number) {
  const ids = Array.from({ length: steps }, (_, i) => `s${i + 1}`);
  const stepScenarios = ids.map((id) => ({
    match: `Your step \\(${id}\\)`,
    stages: { execute: [{ toolCalls: [{ name: 'write_file', input: { path: `${id}.txt`, content: `${id}\n` } }] }, { text: `wrote ${id}.txt` }] },
  }));
  const intent = { input: { goal: 'write the parts', kind: 'change', needsWrite: true, needsShell: false, summary: 'write the parts' } };
  return parseScript({
    latencyMs: LATENCY_MS,
    scenarios: [
      ...stepScenarios,
      {
        match: 'TEAM',
        stages: {
          intent,
          plan: {
            input: {
              steps: ids.map((id) => ({
                id,
                title: `write ${id}.txt`,
                instructions: `Write ${id}.txt.`,
                dependsOn: [],
                evidence: [{ kind: 'file_contains', path: `${id}.txt`, text: id }],
                risk: 'low',
              })),
            },
          },
          respond: { text: 'done' },
        },
      },
      {
        // The same writes by one agent in one tool loop: one turn per file, then the answer.
        match: 'SINGLE',
        stages: {
          intent,
          plan: { input: { steps: ids.map((id) => ({ title: `write ${id}.txt`, tool: 'write_file' })) } },
          execute: [...ids.map((id) => ({ toolCalls: [{ name: 'write_file', input: { path: `${id}.txt`, content: `${id}\n` } }] })), { text: 'wrote them all' }],
          respond: { text: 'done' },
        },
      },
    ],
  });
}

async function main() {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'bench-team-'));
  const { server, cliVersion } = await startBenchDevServer(tmp);
  const rows: string[] = [];
  try {
    for (const steps of STEP_COUNTS) {
      const fake = await startFakeLlm(script(steps));
      const agent = await startBenchAgent(server.address, fake.url, tmp, { AGENT_TASK_QUEUE: `bench-team-${steps}`, AGENT_HOME: path.join(tmp, `home-${steps}`) });
      const { client } = agent;
      const run = async (label: string, prompt: string, team: { maxParallel: number } | undefined) => {
        const times: number[] = [];
        let calls = 0;
        for (let i = 0; i < REPEATS; i++) {
          const workspace = await mkdtemp(path.join(tmp, 'ws-'));
          const before = fake.requests.length;
          const t0 = performance.now();
          const taskId = await client.start({ prompt, workspace, mode: 'accept-edits' }, team ? { team } : {});
          const result = await client.result(taskId);
          times.push(performance.now() - t0);
          calls = fake.requests.length - before;
          if (result.status !== 'completed') throw new Error(`${label}: ${taskId} ended ${result.status}: ${result.problems.join('; ')}`);
        }
        const median = times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
        log(`${steps} steps, ${label}: median ${(median / 1000).toFixed(2)} s over ${REPEATS}, ${calls} model calls`);
        return { median, calls };
      };
      // Warm-up: bundle, caches, the embedded memory store.
      await run('warm-up', 'TEAM warm-up', { maxParallel: steps });
      const parallel = await run('team, parallel', 'TEAM parallel', { maxParallel: steps });
      const sequential = await run('team, one at a time', 'TEAM sequential', { maxParallel: 1 });
      const single = await run('single agentTask', 'SINGLE', undefined);
      const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
      rows.push(
        `| ${steps} | ${s(parallel.median)} | ${s(sequential.median)} | **${(sequential.median / parallel.median).toFixed(2)}×** | ${s(single.median)} | ${parallel.calls} / ${single.calls} |`,
      );
      await agent.stop();
      await fake.close();
    }
  } finally {
    await server.stop();
    await rm(tmp, { recursive: true, force: true });
  }
  process.stdout.write(
    `Team speed-up (fake model ${LATENCY_MS} ms per call, Temporal ${cliVersion}, dev server on SQLite, ${os.cpus().length} cores; median of ${REPEATS})\n\n` +
      '| independent steps | team, parallel | team, one at a time | speed-up | single agentTask | model calls (team / single) |\n' +
      '| ---: | ---: | ---: | ---: | ---: | ---: |\n' +
      rows.join('\n') +
      '\n',
  );
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
