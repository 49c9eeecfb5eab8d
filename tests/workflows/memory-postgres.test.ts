/**
 * Tasks on a PostgreSQL without pgvector (a database on the suite's real PostgreSQL 15 whose role
 * may not create the extension): a task whose model calls `remember` completes, memory keeps
 * working on full-text and key matches, the worker says so once, and `agent doctor` shows it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeLlm, type FakeLlm, type RecordedRequest } from '../../servers/fake-llm/fake-llm-server';
import { parseScript } from '../../servers/fake-llm/script';
import type { TaskClient } from '../../client/task-client';
import { connectClient, makeWorkspace, runCli, startTestWorker, testEnv, type TestWorker } from '../support/harness';
import { replayTaskQueue } from '../support/replay-check';
import { createDatabaseWithoutPgvector } from '../support/memory-db';
import { scenario, toolResultsAt } from '../support/scripts';

function task(match: string, options: { toolCalls?: unknown[]; memories?: unknown[] }) {
  const base = scenario(match, { execute: [...(options.toolCalls ? [{ toolCalls: options.toolCalls }] : []), { text: `done with ${match}` }] });
  return { ...base, stages: { ...base.stages, remember: { input: { memories: options.memories ?? [] } } } };
}

let fake: FakeLlm;
let env: Record<string, string>;
let worker: TestWorker;
let client: TaskClient;
const stderr: string[] = [];
const write = process.stderr.write.bind(process.stderr);

beforeAll(async () => {
  fake = await startFakeLlm(
    parseScript({
      scenarios: [
        task('nv-remember', {
          toolCalls: [{ name: 'remember', input: { subject: 'release', attribute: 'day', value: 'releases go out on Tuesdays' } }],
          memories: [{ scope: 'workspace', kind: 'fact', subject: 'deploy', attribute: 'target', value: 'deploys go to prod-eu', confidence: 0.9, importance: 0.7 }],
        }),
        task('nv-recall', {}),
      ],
    }),
  );
  env = await testEnv(fake.url, { DATABASE_URL: await createDatabaseWithoutPgvector('novecwf'), AGENT_DREAM_SCHEDULE: 'off' });
  // The in-process worker writes its notices to this process's stderr.
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
    stderr.push(String(chunk));
    return write(chunk, ...rest);
  }) as typeof process.stderr.write;
  worker = await startTestWorker(env);
  client = await connectClient(env);
});
afterAll(async () => {
  process.stderr.write = write;
  if (client) await replayTaskQueue(client.client, env.AGENT_TASK_QUEUE!);
  await client?.close();
  await worker?.stop();
  await fake?.close();
});

const planText = (taskId: string) => fake.requests.filter((r: RecordedRequest) => r.task === taskId && r.stage === 'plan').at(-1)!.body.messages[0]!.content as string;

async function run(prompt: string, workspace: string) {
  const taskId = await client.start({ prompt, workspace });
  const result = await client.result(taskId);
  return { taskId, result, trace: (result.trace ?? []).map((e) => `${e.kind} ${e.message}`) };
}

describe('memory on PostgreSQL without pgvector', () => {
  it('a task that calls remember completes; the next task recalls by text and key; the worker says once why there are no vectors', async () => {
    const workspace = await makeWorkspace();
    const t1 = await run('nv-remember: remember the release day', workspace);
    expect(t1.result.status).toBe('completed');
    expect(toolResultsAt(fake.requests, t1.taskId, 1)[0]).toMatchObject({ is_error: false, content: 'Remembered workspace memory release:day = "releases go out on Tuesdays".' });
    expect(t1.trace).toContain('note memory: 1 new, 0 updated, 0 confirmed, 0 stale');
    expect(t1.trace.filter((l) => l.startsWith('error '))).toEqual([]);

    const t2 = await run('nv-recall: when do releases go out and where do deploys go?', workspace);
    expect(t2.result.status).toBe('completed');
    expect(planText(t2.taskId)).toContain('release:day = "releases go out on Tuesdays"');
    expect(planText(t2.taskId)).toContain('deploy:target = "deploys go to prod-eu"');
    expect(t2.trace.some((l) => /^note memory: recalled 2 /.test(l))).toBe(true);

    const notices = stderr
      .join('')
      .split('\n')
      .filter((l) => l.includes('pgvector'));
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatch(
      /^warning: memory: PostgreSQL at .* has no pgvector extension \(permission denied to create extension "vector"\), so recall uses full-text and key matches only; for vector recall install pgvector .*bash scripts\/install-pgvector\.sh/,
    );
    expect(stderr.join('')).not.toMatch(/Activity failed|\n\s+at /);
  });

  it('agent doctor shows the store, that it opens, and the full-text fallback with the fix', async () => {
    const doctor = await runCli(['doctor', '--json'], env);
    const check = (JSON.parse(doctor.stdout) as { checks: { name: string; ok: boolean; detail: string }[] }).checks.find((c) => c.name === 'memory-store');
    expect(check).toMatchObject({ ok: true });
    expect(check!.detail).toMatch(
      /^PostgreSQL at 127\.0\.0\.1:\d+\/novecwf_\w+; opens; no pgvector extension \(permission denied to create extension "vector"\): recall uses full-text and key matches only \(for vectors: install pgvector .*bash scripts\/install-pgvector\.sh.*\); 2 current memories$/,
    );
  });
});
