/**
 * Background-agent costs: what a worker pays to hold many idle agents, and how much
 * workflow history an agent writes per day.
 *
 *   1. Worker memory and CPU with 100 idle background agents on the Temporal dev server (SQLite):
 *      RSS and V8 heap before and after starting them, CPU time over an idle minute.
 *   2. History per agent-day: one agent with a 1 s heartbeat for 20 s gives events and bytes per
 *      idle wake; five handled messages give the cost per message. Extrapolated to the default
 *      15-minute heartbeat (96 wakes a day).
 *
 * Usage: node --import tsx bench/background-agents.ts [--quick]. Markdown on stdout, progress on
 * stderr. Starts and stops its own dev server, fake LLM and worker; not part of the test run.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { BackgroundClient } from '../client/background-client';
import { startFakeLlm } from '../servers/fake-llm/fake-llm-server';
import { parseScript } from '../servers/fake-llm/script';
import { backgroundWorkflowId } from '../domain/background-agent';
import { startBenchAgent, startBenchDevServer } from './dev-server';

const QUICK = process.argv.includes('--quick');
const AGENTS = QUICK ? 30 : 100;
const IDLE_MEASURE_MS = QUICK ? 15_000 : 60_000;
const DEFAULT_HEARTBEAT_WAKES_PER_DAY = (24 * 60) / 15;

const log = (line: string) => process.stderr.write(`${line}\n`);
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

async function settle() {
  (globalThis as { gc?: () => void }).gc?.();
  await new Promise((r) => setTimeout(r, 1_000));
  (globalThis as { gc?: () => void }).gc?.();
}

async function main() {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'bench-bg-'));
  const { server } = await startBenchDevServer(tmp);
  const fake = await startFakeLlm(parseScript({ scenarios: [{ match: '', stages: { execute: { text: 'handled' } } }] }));
  const agent = await startBenchAgent(server.address, fake.url, tmp, { AGENT_TASK_QUEUE: 'bench-bg', AGENT_HOME: path.join(tmp, 'home') });
  const { client: tasks, config } = agent;
  const bg = new BackgroundClient(tasks.client, config.temporal.taskQueue, () => tasks.approverKeys());
  const workspace = tmp;
  try {
    // 1. Memory and CPU of idle agents.
    await settle();
    const before = process.memoryUsage();
    log(`starting ${AGENTS} background agents…`);
    for (let i = 0; i < AGENTS; i++) await bg.start({ name: `idle-${i}`, goal: 'wait for messages', workspace });
    for (let i = 0; i < AGENTS; i++) {
      for (;;) {
        const view = await bg.status(`idle-${i}`).catch(() => null);
        if (view?.state === 'idle') break;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    await settle();
    const after = process.memoryUsage();
    log(`measuring CPU over ${IDLE_MEASURE_MS / 1000}s of idling…`);
    const cpu0 = process.cpuUsage();
    await new Promise((r) => setTimeout(r, IDLE_MEASURE_MS));
    const cpu = process.cpuUsage(cpu0);
    const cpuPct = ((cpu.user + cpu.system) / 1000 / IDLE_MEASURE_MS) * 100;

    // 2. History per agent-day.
    log('measuring history growth…');
    await bg.start({ name: 'hist', goal: 'wait for messages', workspace, heartbeatMs: 1_000 });
    const handle = tasks.client.workflow.getHandle(backgroundWorkflowId('hist'));
    const historyNow = async () => {
      const history = await handle.fetchHistory();
      return { events: history.events?.length ?? 0, bytes: JSON.stringify(history).length };
    };
    await new Promise((r) => setTimeout(r, 2_000));
    const h0 = await historyNow();
    const idleSeconds = QUICK ? 10 : 20;
    await new Promise((r) => setTimeout(r, idleSeconds * 1_000));
    const h1 = await historyNow();
    const perWake = { events: (h1.events - h0.events) / idleSeconds, bytes: (h1.bytes - h0.bytes) / idleSeconds };
    for (let i = 0; i < 5; i++) await bg.send('hist', `message ${i}`, 'bench', `bench-${i}`);
    for (;;) {
      if ((await bg.status('hist')).handledTotal >= 5) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const h2 = await historyNow();
    // The heartbeat keeps ticking while messages are handled; subtract its share.
    const perMessage = { events: (h2.events - h1.events) / 5, bytes: (h2.bytes - h1.bytes) / 5 };
    const idleDay = { events: perWake.events * DEFAULT_HEARTBEAT_WAKES_PER_DAY, bytes: perWake.bytes * DEFAULT_HEARTBEAT_WAKES_PER_DAY };

    const out = [
      `### Background agents (${AGENTS} idle agents, one in-process worker, dev server on SQLite, ${os.availableParallelism()} cores)`,
      '',
      '| measure | value |',
      '| --- | ---: |',
      `| worker RSS before → after ${AGENTS} idle agents | ${mb(before.rss)} → ${mb(after.rss)} (+${mb(after.rss - before.rss)}, ${((after.rss - before.rss) / AGENTS / 1024).toFixed(0)} KB/agent) |`,
      `| V8 heap used before → after | ${mb(before.heapUsed)} → ${mb(after.heapUsed)} |`,
      `| worker CPU while ${AGENTS} agents idle | ${cpuPct.toFixed(2)} % of one core |`,
      `| history per idle heartbeat wake | ${perWake.events.toFixed(1)} events, ${(perWake.bytes / 1024).toFixed(1)} KB |`,
      `| history per idle day (15-min heartbeat, 96 wakes) | ${idleDay.events.toFixed(0)} events, ${(idleDay.bytes / 1024).toFixed(0)} KB |`,
      `| history per handled message (child task start/finish in the parent) | ${perMessage.events.toFixed(1)} events, ${(perMessage.bytes / 1024).toFixed(1)} KB |`,
      '',
      `An agent continues-as-new at 10,000 events, so at the default heartbeat an idle agent rolls over every ${(10_000 / idleDay.events).toFixed(0)} days; one handling 100 messages a day every ~${(10_000 / (idleDay.events + 100 * perMessage.events)).toFixed(1)} days.`,
    ];
    process.stdout.write(`${out.join('\n')}\n`);
  } finally {
    for (let i = 0; i < AGENTS; i++) await bg.stop(`idle-${i}`, 'bench').catch(() => {});
    await bg.stop('hist', 'bench').catch(() => {});
    await agent.stop().catch(() => {});
    await fake.close();
    await server.stop();
    await rm(tmp, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`bench failed: ${(err as Error).stack ?? err}\n`);
    process.exit(1);
  },
);
