/**
 * Approval round trip through the chat front ends: how long from a signed decision arriving at
 * `agent approvals serve` until the workflow has applied it and resumed?
 *
 * Everything real except Slack's servers: a Temporal dev server (SQLite file), an in-process worker
 * (createAgentWorker) posting requests with Slack's WebClient to the local Slack stand-in
 * (tests/support/fake-slack.ts) and to a webhook sink, and the approvals server (Bolt HTTPReceiver
 * plus the webhook endpoint) with its own Temporal client, as the separate serve process has.
 *
 * Per sample (sequential): start a task that asks to write a file, wait (untimed) for its Slack
 * message and 200 ms more, then send one correctly signed request and time:
 *   arrival → resumed   the server's HTTP handler starts → the decideApproval Update completed
 *                       (guard, signature, allow-list, status query, Update; the workflow has the decision)
 *   send → resumed      the same, from the client's fetch() call (adds loopback HTTP and, for Slack, Bolt's ack path)
 *   arrival → message   (Slack only) → the worker's chat.update reached Slack: what the clicker sees
 * The baseline row is TaskClient.sendDecision called directly (the CLI's path without process start-up).
 *
 * Usage: node --import tsx bench/approvals-chat.ts [--quick]. Table on stdout, progress on stderr;
 * everything started here is stopped on exit, error or Ctrl-C. Measures, never asserts.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { startApprovalsServer } from '../servers/chat-approvals/approvals-server';
import type { DecisionEvent } from '../servers/chat-approvals/slack-app';
import { startFakeLlm } from '../servers/fake-llm/fake-llm-server';
import { parseScript } from '../servers/fake-llm/script';
import { TaskClient } from '../client/task-client';
import { signedHeaders } from '../services/approvals/signing';
import { APPROVE_ACTION } from '../services/approvals/slack-message';
import { loadConfig } from '../services/config';
import { FakeSlack } from '../tests/support/fake-slack';
import { createAgentWorker } from '../workers/worker';
import { startBenchDevServer } from './dev-server';

const QUICK = process.argv.includes('--quick');
const SAMPLES = QUICK ? 10 : 50;
const WARMUP = 3;
/** Untimed pause between the request showing up in Slack and the decision (see startTask). */
const SETTLE_MS = 200;
const WATCHDOG_MS = (QUICK ? 5 : 15) * 60_000;

const BOT_TOKEN = 'xoxb-bench-bot-token';
const SIGNING_SECRET = 'bench-slack-signing-secret';
const OPS_KEY = 'bench-inbound-webhook-key-0123456789';
const APPROVER = 'U0BENCH01';

const cleanups: { what: string; fn: () => Promise<void> | void }[] = [];
const onCleanup = (what: string, fn: () => Promise<void> | void) => cleanups.push({ what, fn });
let cleaning: Promise<void> | null = null;
function cleanupAll(): Promise<void> {
  cleaning ??= (async () => {
    while (cleanups.length) {
      const { what, fn } = cleanups.pop()!;
      await Promise.resolve()
        .then(fn)
        .catch((err: Error) => log(`cleanup of ${what} failed: ${err.message}`));
    }
  })();
  return cleaning;
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`${signal}: stopping everything started by the bench`);
    void cleanupAll().finally(() => process.exit(130));
  });
}

function log(line: string) {
  process.stderr.write(`[bench] ${line}\n`);
}

/** Nearest-rank percentile (with 50 samples p99 is the maximum). */
function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

async function main() {
  const watchdog = setTimeout(() => {
    log(`gave up after ${WATCHDOG_MS / 60_000} minutes`);
    void cleanupAll().finally(() => process.exit(1));
  }, WATCHDOG_MS);
  watchdog.unref();
  Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: [] });

  const tmp = await mkdtemp(path.join(os.tmpdir(), 'agent-bench-chat-'));
  onCleanup('temp dir', () => rm(tmp, { recursive: true, force: true }));

  log('starting the Temporal dev server');
  const { server, cliVersion } = await startBenchDevServer(path.join(tmp, 'temporal'));
  onCleanup('Temporal dev server', () => server.stop());

  const fake = await startFakeLlm(
    parseScript({
      stages: {
        intent: { input: { goal: 'write x.txt', kind: 'change', needsWrite: true, needsShell: false, summary: 'bench approval' } },
        plan: { input: { steps: [{ title: 'write x.txt', tool: 'write_file' }] } },
        execute: [{ toolCalls: [{ name: 'write_file', input: { path: 'x.txt', content: 'x\n' } }] }, { text: 'done' }],
        verify: { input: { passed: true, evidence: ['wrote x.txt'], problems: [] } },
        respond: { text: 'Wrote x.txt.' },
      },
    }),
  );
  onCleanup('fake LLM', () => fake.close());
  const slack = await FakeSlack.start({ botToken: BOT_TOKEN, signingSecret: SIGNING_SECRET });
  onCleanup('Slack stand-in', () => slack.close());
  // The outgoing webhook goes to a sink that answers at once, so it costs the worker what a fast receiver would.
  const sink = http.createServer((req, res) => req.resume().on('end', () => res.writeHead(204).end()));
  await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
  onCleanup('webhook sink', () => new Promise<void>((r) => sink.close(() => r())));

  const env = {
    TEMPORAL_ADDRESS: server.address,
    AGENT_DEV_SERVER: 'never',
    AGENT_TASK_QUEUE: `bench-chat-${randomUUID().slice(0, 8)}`,
    AGENT_HOME: path.join(tmp, 'agent-home'),
    ANTHROPIC_API_KEY: 'bench',
    ANTHROPIC_BASE_URL: fake.url,
    // Recall runs before planning, not on the decision path; off keeps the embedded database out of the numbers.
    AGENT_MEMORY: 'off',
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_APPROVAL_CHANNEL: 'C0BENCH',
    SLACK_API_URL: slack.url,
    AGENT_APPROVERS: `slack:${APPROVER},webhook:bench`,
    AGENT_APPROVAL_WEBHOOK_URL: `http://127.0.0.1:${(sink.address() as AddressInfo).port}/hook`,
    AGENT_APPROVAL_WEBHOOK_SECRET: 'bench-outgoing-webhook-secret-0123',
    AGENT_APPROVAL_WEBHOOK_KEYS: `bench=${OPS_KEY}`,
    AGENT_APPROVALS_PORT: '0',
  };
  const config = loadConfig(env);
  log('creating the worker (bundles the workflow code)');
  const agentWorker = await createAgentWorker(config);
  const running = agentWorker.run();
  onCleanup('worker', async () => {
    if (agentWorker.worker.getState() === 'RUNNING') agentWorker.worker.shutdown();
    await running;
  });
  const starter = TaskClient.overWorkerConnection(agentWorker.connection, config);
  // The approvals server has its own connection, as the separate `agent approvals serve` process does.
  const serveClient = await TaskClient.connect(config);
  onCleanup('approvals client', () => serveClient.close());
  const decisions = new Map<string, DecisionEvent>();
  const approvals = await startApprovalsServer({ config, client: serveClient, log: () => {}, onDecision: (e) => decisions.set(`${e.taskId}/${e.requestId}`, e) });
  onCleanup('approvals server', () => approvals.close());

  const startTask = async () => {
    const workspace = await mkdtemp(path.join(tmp, 'ws-'));
    const taskId = await starter.start(
      { prompt: 'bench approval: write x.txt', workspace, confirmResult: 'never', submittedBy: 'bench' },
      { taskId: `bench-chat-${randomUUID()}` },
    );
    const message = await slack.messageFor(taskId, 'apr-1', 30_000);
    // A person takes seconds to click; without this pause the decision would queue behind the workflow
    // task that records the notification activity's completion, which no real click ever meets.
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    return { taskId, message };
  };
  const finish = async (taskId: string) => {
    const result = await starter.result(taskId);
    if (result.status !== 'completed' || result.approvals[0]?.outcome !== 'approved') throw new Error(`task ${taskId} ended ${result.status}`);
  };
  const decisionFor = async (key: string) => {
    for (;;) {
      const event = decisions.get(key);
      if (event) return event;
      await new Promise((r) => setTimeout(r, 1));
    }
  };

  type Sample = { arrival: number; send: number; message?: number };
  const rows: Record<string, Sample[]> = { direct: [], slack: [], webhook: [] };
  for (let i = 0; i < WARMUP + SAMPLES; i++) {
    const keep = i >= WARMUP;
    if (i === WARMUP) log(`measuring ${SAMPLES} samples per path`);

    // Baseline: the Update alone, as the CLI sends it.
    {
      const { taskId } = await startTask();
      const request = (await starter.status(taskId)).pendingApprovals[0]!;
      const t0 = performance.now();
      await serveClient.sendDecision(taskId, { requestId: 'apr-1', actionHash: request.actionHash, approve: true, always: false, decidedBy: 'bench', channel: 'api' });
      const ms = performance.now() - t0;
      if (keep) rows.direct!.push({ arrival: ms, send: ms });
      await finish(taskId);
    }
    // Slack: a signed block_actions click to the Bolt receiver.
    {
      const { taskId, message } = await startTask();
      const signed = slack.click(message, APPROVE_ACTION, APPROVER);
      const t0 = performance.now();
      const res = await fetch(`${approvals.url}/slack/events`, { method: 'POST', headers: signed.headers, body: signed.body });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`Slack click answered ${res.status}`);
      const event = await decisionFor(`${taskId}/apr-1`);
      if (!event.outcome.ok) throw new Error(`Slack click refused: ${event.outcome.message}`);
      const updated = await waitForUpdate(slack, message.channel, message.ts);
      if (keep) rows.slack!.push({ arrival: event.doneAt - event.receivedAt, send: event.doneAt - t0, message: updated - event.receivedAt });
      await finish(taskId);
    }
    // Webhook: a signed decision to POST /approvals/:taskId/:requestId.
    {
      const { taskId } = await startTask();
      const request = (await starter.status(taskId)).pendingApprovals[0]!;
      const body = JSON.stringify({ taskId, requestId: 'apr-1', actionHash: request.actionHash, approve: true });
      const t0 = performance.now();
      const res = await fetch(`${approvals.url}/approvals/${taskId}/apr-1`, { method: 'POST', headers: signedHeaders('bench', OPS_KEY, body), body });
      await res.arrayBuffer();
      const sent = performance.now() - t0;
      if (res.status !== 200) throw new Error(`webhook decision answered ${res.status}`);
      const event = await decisionFor(`${taskId}/apr-1`);
      if (keep) rows.webhook!.push({ arrival: event.doneAt - event.receivedAt, send: sent });
      await finish(taskId);
    }
  }

  const fmt = (values: number[]) => (values.length ? `${percentile(values, 50).toFixed(1)} | ${percentile(values, 99).toFixed(1)}` : '– | –');
  const line = (name: string, samples: Sample[]) =>
    `| ${name} | ${samples.length} | ${fmt(samples.map((s) => s.arrival))} | ${fmt(samples.map((s) => s.send))} | ${fmt(samples.flatMap((s) => (s.message === undefined ? [] : [s.message])))} |`;
  process.stdout.write(
    [
      '| path | n | arrival → resumed p50 (ms) | p99 | send → resumed p50 (ms) | p99 | arrival → Slack message updated p50 (ms) | p99 |',
      '| --- | --- | --- | --- | --- | --- | --- | --- |',
      line('Slack click (Bolt HTTP receiver)', rows.slack!),
      line('signed webhook', rows.webhook!),
      line('baseline: Update only (sendDecision)', rows.direct!),
      '',
      `- cores: ${os.cpus().length} (${os.cpus()[0]?.model.trim() ?? 'unknown'}), node ${process.version}, Temporal CLI ${cliVersion} (dev server, SQLite file), mode: ${QUICK ? 'quick' : 'full'}`,
      '- "resumed": the decideApproval Update completed, i.e. the workflow accepted the decision and its wait returned.',
    ].join('\n') + '\n',
  );
}

/** When the resolution's chat.update for this message reached the stand-in (performance.now() of this process). */
async function waitForUpdate(slack: FakeSlack, channel: string, ts: string): Promise<number> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const call = slack.callsOf('chat.update').find((c) => c.params.channel === channel && c.params.ts === ts);
    if (call) return call.at;
    if (Date.now() > deadline) throw new Error(`no chat.update for ${channel}/${ts}`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

main()
  .then(
    () => cleanupAll(),
    async (err: Error) => {
      log(`failed: ${err.stack ?? err.message}`);
      await cleanupAll();
      process.exitCode = 1;
    },
  )
  .finally(() => setTimeout(() => process.exit(process.exitCode ?? 0), 100).unref());
