/**
 * A background agent survives a Temporal server restart: its own dev server with a SQLite file is
 * stopped while the agent waits, started again on the same file, and a message sent afterwards is
 * handled by the same agent, with the inbox and counters it had before.
 */
import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { BackgroundClient } from '../../client/background-client';
import { startFakeLlm, type FakeLlm } from '../../servers/fake-llm/fake-llm-server';
import { parseScript } from '../../servers/fake-llm/script';
import { TaskClient } from '../../client/task-client';
import { loadConfig } from '../../services/config';
import { findTemporalCli, freePort, startDevServer, type DevServer } from '../../services/temporal-dev-server';
import { makeWorkspace, startTestWorker, testEnv, waitFor, type TestWorker } from '../support/harness';

let server: DevServer | undefined;
let worker: TestWorker | undefined;
let client: TaskClient | undefined;
let fake: FakeLlm | undefined;

afterAll(async () => {
  await client?.close().catch(() => {});
  await worker?.stop().catch(() => {});
  await server?.stop().catch(() => {});
  await fake?.close();
});

describe('background agent across a server restart', () => {
  it('keeps its state and handles messages after the dev server restarts on the same SQLite file', async () => {
    const cliPath = (await findTemporalCli(process.env.TEMPORAL_CLI_PATH))!;
    const dir = path.join(inject('tmpRoot'), `restart-${Date.now()}`);
    const address = `127.0.0.1:${await freePort()}`;
    const uiPort = await freePort();
    const serverOptions = { cliPath, address, uiPort, namespace: 'default', dbFile: path.join(dir, 'temporal.db'), logFile: path.join(dir, 'temporal.log'), detached: false };
    server = await startDevServer(serverOptions);
    fake = await startFakeLlm(parseScript({ scenarios: [{ match: '', stages: { execute: { text: 'handled' } } }] }));
    const env = await testEnv(fake.url, { TEMPORAL_ADDRESS: address });
    worker = await startTestWorker(env);
    client = await TaskClient.connect(loadConfig(env), { connectTimeoutMs: 20_000 });
    const bg = () => new BackgroundClient(client!.client, env.AGENT_TASK_QUEUE!, () => client!.approverKeys());
    await bg().start({ name: 'survivor', goal: 'answer each message', workspace: await makeWorkspace({}) });
    await bg().send('survivor', 'before the restart', 'tester', 'before');
    await waitFor(async () => (await bg().status('survivor')).handledTotal === 1, 'the first message handled');

    await worker.stop();
    worker = undefined;
    await client.close();
    await server.stop();
    server = await startDevServer(serverOptions);
    worker = await startTestWorker(env);
    client = await TaskClient.connect(loadConfig(env), { connectTimeoutMs: 20_000 });

    await bg().send('survivor', 'after the restart', 'tester', 'after');
    const view = await waitFor(
      async () => {
        const v = await bg().status('survivor');
        return v.handledTotal === 2 ? v : null;
      },
      'the second message handled after the restart',
      60_000,
    );
    expect(view.recentRuns.map((r) => [r.itemId, r.status])).toEqual([
      ['before', 'completed'],
      ['after', 'completed'],
    ]);
    await bg().stop('survivor', 'tester');
  }, 120_000);
});
