/**
 * Consolidation (dream) on a real Temporal server and the suite's PostgreSQL: a worker process is
 * SIGKILLed mid-run and the resumed run ends exactly where an uninterrupted one does; concurrent
 * triggers make one run; the scheduled tick skips a scope already being consolidated; decay and
 * the schedule itself.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ensureDreamSchedule, startDream, DREAM_TICK_WORKFLOW } from '../../workers/dream-schedule';
import { startFakeLlm, type FakeLlm } from '../../servers/fake-llm/fake-llm-server';
import { parseScript } from '../../servers/fake-llm/script';
import type { TaskClient } from '../../client/task-client';
import { loadConfig, type Config } from '../../services/config';
import { openPostgres } from '../../services/memory/database';
import { HashedEmbedder } from '../../services/memory/embeddings';
import { MemoryService } from '../../services/memory/memory-service';
import { PgVectorIndex } from '../../services/memory/pgvector-index';
import type { dream, DreamReport } from '../../workflows/dream';
import { connectClient, makeWorkspace, spawnCli, startTestWorker, testEnv, waitFor, type TestWorker } from '../support/harness';
import { replayTaskQueue } from '../support/replay-check';
import { createTestDatabase } from '../support/memory-db';

const mem = (subject: string, attribute: string, value: string, importance = 0.6) => ({ scope: 'workspace', kind: 'fact', subject, attribute, value, confidence: 0.8, importance });
const summary = (task: string, text: string) => ({
  scope: 'workspace',
  kind: 'episode-summary',
  subject: 'episode',
  attribute: task,
  value: text,
  confidence: 0.9,
  importance: 0.4,
});

/** Six episodes, three batches of two; the facts change across batches, like a real project's history. */
const EPISODES = [
  ['ep-1', 'dream-ep-1: set up deploys to staging'],
  ['ep-2', 'dream-ep-2: add a lint step'],
  ['ep-3', 'dream-ep-3: move deploys to prod-eu'],
  ['ep-4', 'dream-ep-4: switch the database host'],
  ['ep-5', 'dream-ep-5: document the release'],
  ['ep-6', 'dream-ep-6: lint with zero warnings'],
] as const;

const SCRIPT = {
  scenarios: [
    {
      match: 'dream-ep-1',
      stages: { remember: { input: { memories: [mem('deploy', 'target', 'staging'), mem('lint', 'command', 'npm run lint'), summary('ep-1', 'set up deploys')] } } },
    },
    {
      match: 'dream-ep-3',
      // Slow enough to kill the worker while this batch's model call is in flight.
      stages: {
        remember: { delayMs: 2_500, input: { memories: [mem('deploy', 'target', 'prod-eu'), mem('db', 'host', 'db2.internal'), mem('lint', 'command', 'npm run lint')] } },
      },
    },
    {
      match: 'dream-ep-5',
      stages: {
        remember: { input: { memories: [mem('release', 'procedure', 'tag, then publish from CI'), mem('lint', 'command', 'npm run lint -- --max-warnings 0'), { broken: true }] } },
      },
    },
    { match: 'dream-slow', stages: { remember: { delayMs: 3_000, input: { memories: [mem('slow', 'fact', 'took a while')] } } } },
  ],
};

let fake: FakeLlm;
let databaseUrl: string;
let memory: MemoryService;
/** Spawned worker processes (crash test) on one queue; an in-process worker on another. */
let processEnv: Record<string, string>;
let processClient: TaskClient;
let inProcessEnv: Record<string, string>;
let inProcess: TestWorker;
let client: TaskClient;
let config: Config;
const spawned: ReturnType<typeof spawnCli>[] = [];

beforeAll(async () => {
  fake = await startFakeLlm(parseScript(SCRIPT));
  databaseUrl = await createTestDatabase('dream');
  const db = openPostgres(databaseUrl, 4);
  memory = await MemoryService.fromParts({ db, index: new PgVectorIndex(db.pool), embedder: new HashedEmbedder(256) });
  const common = { DATABASE_URL: databaseUrl, AGENT_DREAM_SCHEDULE: 'off', AGENT_MEMORY_DECAY_AFTER: '30d' };
  processEnv = await testEnv(fake.url, common);
  processClient = await connectClient(processEnv);
  inProcessEnv = await testEnv(fake.url, common);
  inProcess = await startTestWorker(inProcessEnv);
  client = await connectClient(inProcessEnv);
  config = loadConfig(inProcessEnv);
});
afterEach(async () => {
  for (const w of spawned.splice(0)) {
    w.child.kill('SIGKILL');
    await w.done;
  }
});
afterAll(async () => {
  if (client) await replayTaskQueue(client.client, inProcessEnv.AGENT_TASK_QUEUE!);
  if (processClient) await replayTaskQueue(processClient.client, processEnv.AGENT_TASK_QUEUE!);
  await client?.close();
  await processClient?.close();
  await inProcess?.stop();
  await memory?.close();
  await fake?.close();
});

async function seed(prefix: string, episodes: readonly (readonly [string, string])[] = EPISODES): Promise<string> {
  const workspace = await makeWorkspace();
  const scope = `workspace:${workspace}`;
  let n = 0;
  for (const [id, prompt] of episodes) {
    await memory.store.putEpisode({
      taskId: `${prefix}-${id}`,
      scope,
      prompt,
      status: 'completed',
      summary: `Goal: ${prompt}\nOutcome: completed`,
      transcriptHead: null,
      data: {},
      recordedAt: new Date(Date.UTC(2025, 5, 1, 12, n++)).toISOString(),
    });
  }
  return scope;
}

/** Everything a run leaves behind, minus ids and wall-clock times. */
async function snapshot(scope: string) {
  const all = await memory.store.list({ scopes: [scope], includeInvalid: true, limit: 1_000 });
  const chains: Record<string, string[]> = {};
  for (const i of [...all].sort((a, b) => a.validFrom.localeCompare(b.validFrom) || a.createdAt.localeCompare(b.createdAt))) (chains[i.key] ??= []).push(i.value);
  const current = Object.fromEntries(all.filter((i) => !i.invalidatedAt).map((i) => [i.key, `${i.kind}:${i.value}`]));
  const pending = await memory.store.pendingEpisodeCount(scope);
  return { current, chains, pending };
}

const reportShape = (r: DreamReport) => ({ episodes: r.episodes, memories: r.memories, decayed: r.decayed, batches: r.batches, stoppedBy: r.stoppedBy });

describe('dream', () => {
  it('a worker killed mid-run: the run resumes and ends exactly like an uninterrupted one', async () => {
    const crashedScope = await seed('crash');
    const first = spawnCli(['worker'], processEnv);
    spawned.push(first);
    const cfg = loadConfig(processEnv);
    const run = await startDream(processClient.client, cfg, crashedScope, 'test', { batchSize: 2 });
    const batchTask = `${run.workflowId}/${run.runId}#1`;
    // Batch 0 committed, batch 1's model call in flight: kill the worker there.
    await waitFor(async () => fake.requests.some((r) => r.task === batchTask), 'the second batch to reach the model', 45_000);
    expect(await memory.store.applied(`dream:${run.workflowId}/${run.runId}:0`)).not.toBeNull();
    expect(await memory.store.applied(`dream:${run.workflowId}/${run.runId}:1`)).toBeNull();
    first.child.kill('SIGKILL');
    await first.done;
    spawned.push(spawnCli(['worker'], processEnv));
    const crashed: DreamReport = await processClient.client.workflow.getHandle<typeof dream>(run.workflowId, run.runId).result();

    const cleanScope = await seed('clean');
    const clean = await startDream(processClient.client, cfg, cleanScope, 'test', { batchSize: 2 });
    const uninterrupted: DreamReport = await processClient.client.workflow.getHandle<typeof dream>(clean.workflowId, clean.runId).result();

    expect(reportShape(crashed)).toEqual(reportShape(uninterrupted));
    expect(crashed.memories).toEqual({ created: 5, superseded: 2, confirmed: 1, stale: 0, rejected: 1 });
    const [a, b] = [await snapshot(crashedScope), await snapshot(cleanScope)];
    expect(a).toEqual(b);
    expect(a.current).toEqual({
      'deploy:target': 'fact:prod-eu',
      'db:host': 'fact:db2.internal',
      'lint:command': 'fact:npm run lint -- --max-warnings 0',
      'release:procedure': 'fact:tag, then publish from CI',
      'episode:ep-1': 'episode-summary:set up deploys',
    });
    expect(a.chains['deploy:target']).toEqual(['staging', 'prod-eu']);
    expect(a.pending).toBe(0);
    // The batch in flight at the crash was asked again (its first answer was lost with the worker); no other was.
    expect(fake.requests.filter((r) => r.task === batchTask)).toHaveLength(2);
    expect(fake.requests.filter((r) => r.task === `${run.workflowId}/${run.runId}#0`)).toHaveLength(1);
  }, 120_000);

  it('two triggers at once produce one run', async () => {
    const scope = await seed('twice', [['a', 'dream-slow: one slow episode']]);
    const [x, y] = await Promise.all([startDream(client.client, config, scope, 'cli'), startDream(client.client, config, scope, 'episodes')]);
    expect(x).toEqual(y);
    const report: DreamReport = await client.client.workflow.getHandle<typeof dream>(x.workflowId, x.runId).result();
    expect(report).toMatchObject({ trigger: expect.stringMatching(/^(cli|episodes)$/), episodes: { planned: 1, consolidated: 1 }, memories: { created: 1 } });
    expect((await memory.store.dreamRuns(scope, 10)).map((r) => r.runId)).toEqual([report.runId]);
    expect(fake.requests.filter((r) => r.task.startsWith(`${x.workflowId}/`))).toHaveLength(1);
    // Once it finished, a new trigger starts a new run (which finds nothing left to consolidate).
    const again = await startDream(client.client, config, scope, 'cli');
    expect(again.runId).not.toBe(x.runId);
    const second: DreamReport = await client.client.workflow.getHandle<typeof dream>(again.workflowId, again.runId).result();
    expect(second.episodes.planned).toBe(0);
  });

  it('the scheduled tick consolidates every waiting scope but skips one already running', async () => {
    const busy = await seed('busy', [['a', 'dream-slow: busy scope']]);
    const idle = await seed('idle', [['a', 'dream-ep-5: document the release']]);
    const running = await startDream(client.client, config, busy, 'cli');
    await waitFor(async () => fake.requests.some((r) => r.task.startsWith(`${running.workflowId}/`)), 'the busy run to reach the model');
    const tick = await client.client.workflow.execute(DREAM_TICK_WORKFLOW, {
      workflowId: `tick-test-${Date.now()}`,
      taskQueue: config.temporal.taskQueue,
      args: [{ tokenBudget: 10_000, timeBudgetMs: 60_000 }],
    });
    expect(tick).toEqual({ started: [idle], skipped: [busy] });
    await client.client.workflow.getHandle(running.workflowId, running.runId).result();
    await waitFor(async () => (await memory.store.pendingEpisodeCount(idle)) === 0, 'the idle scope to be consolidated');
    expect((await snapshot(idle)).current['release:procedure']).toBe('fact:tag, then publish from CI');
  });

  it('decays unused low-importance memories, keeps important ones, and stops at the token budget', async () => {
    const scope = await seed('decay');
    const old = new Date(Date.now() - 90 * 86_400_000).toISOString();
    await memory.write([
      { scope, kind: 'fact', subject: 'temp', attribute: 'note', value: 'a passing remark', confidence: 0.5, importance: 0.1, source: 'writer', provenance: {}, validFrom: old },
      { scope, kind: 'fact', subject: 'license', attribute: 'type', value: 'MIT', confidence: 0.9, importance: 0.9, source: 'writer', provenance: {}, validFrom: old },
    ]);
    const small = { ...config, memory: { ...config.memory, dream: { ...config.memory.dream, tokenBudget: 1 } } };
    const run = await startDream(client.client, small, scope, 'cli', { batchSize: 2 });
    const report: DreamReport = await client.client.workflow.getHandle<typeof dream>(run.workflowId, run.runId).result();
    expect(report).toMatchObject({ stoppedBy: 'token budget', batches: 1, episodes: { planned: 6, consolidated: 2 }, decayed: 1 });
    expect(await memory.store.pendingEpisodeCount(scope)).toBe(4);
    const history = await memory.store.history('temp:note', [scope]);
    expect(history[0]!.invalidatedReason).toMatch(/^decayed: importance below 0.3 and unused since \d{4}-\d{2}-\d{2}$/);
    expect((await memory.store.current(scope, 'license:type'))?.value).toBe('MIT');
  });

  it('the schedule is created once, left alone when unchanged, and updated when the cron changes', async () => {
    const scheduled = { ...config, memory: { ...config.memory, dream: { ...config.memory.dream, schedule: '0 3 * * *' } } };
    expect((await ensureDreamSchedule(client.client, scheduled)).action).toBe('created');
    expect((await ensureDreamSchedule(client.client, scheduled)).action).toBe('unchanged');
    const changed = { ...scheduled, memory: { ...scheduled.memory, dream: { ...scheduled.memory.dream, schedule: '30 2 * * *' } } };
    const result = await ensureDreamSchedule(client.client, changed);
    expect(result.action).toBe('updated');
    const handle = client.client.schedule.getHandle(result.scheduleId);
    const described = await handle.describe();
    expect(described.action).toMatchObject({ type: 'startWorkflow', workflowType: DREAM_TICK_WORKFLOW, taskQueue: config.temporal.taskQueue });
    expect(described.info.nextActionTimes[0]!.getUTCHours()).toBe(2);
    expect(described.info.nextActionTimes[0]!.getUTCMinutes()).toBe(30);
    await handle.delete();
  });
});
