/**
 * The embedded memory (no DATABASE_URL) while another process holds it, as with `agent up` in one
 * terminal and `agent run` in another: this test process opens memory first (it owns the PGlite
 * database, as the `agent up` worker would), then `agent run` — a separate process with its own
 * in-process worker, the only worker on the task queue — recalls, calls `remember` and writes
 * memories through it. Nothing fails, nothing is skipped, and nothing is logged. And when memory
 * really cannot be had, the task still completes and the reason is one plain line.
 */
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeLlm, type FakeLlm } from '../../servers/fake-llm/fake-llm-server';
import { parseScript } from '../../servers/fake-llm/script';
import { loadConfig } from '../../services/config';
import { MemoryService } from '../../services/memory/memory-service';
import { connectClient, makeWorkspace, runCli, startTestWorker, testEnv } from '../support/harness';
import { scenario, toolResultsAt } from '../support/scripts';

let fake: FakeLlm;
let env: Record<string, string>;
let here: MemoryService;

beforeAll(async () => {
  const base = scenario('shared-memory', {
    execute: [{ toolCalls: [{ name: 'remember', input: { subject: 'release', attribute: 'day', value: 'releases go out on Tuesdays' } }] }, { text: 'noted' }],
  });
  fake = await startFakeLlm(
    parseScript({
      scenarios: [
        {
          ...base,
          stages: {
            ...base.stages,
            remember: {
              input: { memories: [{ scope: 'workspace', kind: 'fact', subject: 'lint', attribute: 'command', value: 'npm run lint', confidence: 0.9, importance: 0.7 }] },
            },
          },
        },
      ],
    }),
  );
  env = await testEnv(fake.url, { AGENT_DREAM_SCHEDULE: 'off' });
  here = await MemoryService.open(loadConfig(env));
});
afterAll(async () => {
  await here?.close();
  await fake?.close();
});

describe('embedded memory with two processes', () => {
  it('agent run in another process recalls, remembers and writes through the process that holds the database', async () => {
    const workspace = await makeWorkspace();
    const ctx = { workspace, user: 'someone' };
    await here.remember({ scope: 'workspace', subject: 'deploy', attribute: 'target', value: 'deploys go to prod-eu', source: 'cli' }, ctx);

    const run = await runCli(['run', 'shared-memory: where do deploys go? remember the release day', '--workspace', workspace, '--json'], env);
    expect(run.code, run.stderr).toBe(0);
    // Not a word about memory on stderr: no "memory recall failed", no "in use by process", no stack trace.
    expect(run.stderr).not.toMatch(/memory|Activity failed|\n\s+at /);
    const { taskId, status } = JSON.parse(run.stdout) as { taskId: string; status: string };
    expect(status).toBe('completed');

    const client = await connectClient(env);
    const trace = ((await client.result(taskId)).trace ?? []).map((e) => `${e.kind} ${e.message}`);
    await client.close();
    expect(trace.filter((l) => l.startsWith('error '))).toEqual([]);
    expect(trace.some((l) => l.startsWith('note memory recalled: deploy:target = "deploys go to prod-eu"'))).toBe(true);
    expect(trace).toContain('note memory: 1 new, 0 updated, 0 confirmed, 0 stale');
    const plan = fake.requests.find((r) => r.task === taskId && r.stage === 'plan')!.body.messages[0]!.content as string;
    expect(plan).toContain('deploy:target = "deploys go to prod-eu"');
    expect(toolResultsAt(fake.requests, taskId, 1)[0]).toMatchObject({ is_error: false, content: 'Remembered workspace memory release:day = "releases go out on Tuesdays".' });

    // What the other process wrote is here, in the one shared store.
    const items = await here.store.list({ scopes: [`workspace:${workspace}`], limit: 10 });
    expect(items.map((i) => `${i.key}=${i.value}`).sort()).toEqual(['deploy:target=deploys go to prod-eu', 'lint:command=npm run lint', 'release:day=releases go out on Tuesdays']);
    expect(here.db.role).toBe('owner');
  });

  it('memory that cannot be had: the task completes, remember answers the model, the reason is one line in the trace and once on stderr', async () => {
    const unavailableEnv = await testEnv(fake.url, { AGENT_DREAM_SCHEDULE: 'off' });
    // The lock of an older agent version, held by a live process: nothing here can share it.
    const holder = spawn('sleep', ['120'], { stdio: 'ignore' });
    await writeFile(path.join(unavailableEnv.AGENT_HOME!, 'memory.lock'), String(holder.pid));
    const stderr: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
      stderr.push(String(chunk));
      return write(chunk, ...rest);
    }) as typeof process.stderr.write;
    const worker = await startTestWorker(unavailableEnv);
    const client = await connectClient(unavailableEnv);
    try {
      const taskId = await client.start({ prompt: 'shared-memory: remember the release day', workspace: await makeWorkspace() });
      const result = await client.result(taskId);
      expect(result.status).toBe('completed');
      const reason = `the embedded memory database ${path.join(unavailableEnv.AGENT_HOME!, 'memory')} is held by process ${holder.pid}, an older version of the agent that cannot share it: restart that process (\`agent up\`) with this version, or set DATABASE_URL`;
      const trace = (result.trace ?? []).map((e) => `${e.kind} ${e.message}`);
      expect(trace.filter((l) => l.startsWith('error '))).toEqual([
        `error memory recall failed, continuing without memory: ${reason}`,
        `error memory write failed (the task's result is unaffected): ${reason}`,
      ]);
      expect(toolResultsAt(fake.requests, taskId, 1)[0]).toMatchObject({ is_error: true, content: `memory is unavailable, nothing was remembered or forgotten: ${reason}` });
      const said = stderr.join('');
      expect(said.split('\n').filter((l) => l.includes('memory'))).toEqual([`warning: memory unavailable, tasks go on without it: ${reason}`]);
      expect(said).not.toMatch(/Activity failed|\n\s+at /);
    } finally {
      process.stderr.write = write;
      await client.close();
      await worker.stop();
      holder.kill('SIGKILL');
    }
  });
});
