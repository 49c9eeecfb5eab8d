/**
 * The Temporal dev server the benches measure against: the embedded default's shape, with a SQLite
 * file on disk (not in-memory), so persistence is really paid. The caller stops it. And the agent
 * (a worker and a client) most benches run on it.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { TaskClient } from '../client/task-client';
import { loadConfig, type Config } from '../services/config';
import { findTemporalCli, freePort, startDevServer, type DevServer } from '../services/temporal-dev-server';
import { createAgentWorker } from '../workers/worker';

export async function startBenchDevServer(dir: string, name = 'temporal'): Promise<{ server: DevServer; cliVersion: string }> {
  const cliPath = await findTemporalCli(process.env.TEMPORAL_CLI_PATH);
  if (!cliPath) throw new Error('the Temporal CLI is missing: run `npm run setup` first');
  const cliVersion = execFileSync(cliPath, ['--version'], { encoding: 'utf8' }).trim();
  const server = await startDevServer({
    cliPath,
    address: `127.0.0.1:${await freePort()}`,
    uiPort: await freePort(),
    namespace: 'default',
    dbFile: path.join(dir, `${name}.db`),
    logFile: path.join(dir, `${name}.log`),
    detached: false,
  });
  return { server, cliVersion };
}

export interface BenchAgent {
  config: Config;
  client: TaskClient;
  /** Closes the client and stops the worker. */
  stop(): Promise<void>;
}

/**
 * A worker and a client on the dev server at `serverAddress`, answered by the fake model at
 * `modelUrl`. `env` names at least the bench's own task queue and AGENT_HOME; it may add settings.
 */
export async function startBenchAgent(
  serverAddress: string,
  modelUrl: string,
  dir: string,
  env: { AGENT_TASK_QUEUE: string; AGENT_HOME: string } & Record<string, string>,
): Promise<BenchAgent> {
  const config = loadConfig(
    { TEMPORAL_ADDRESS: serverAddress, ANTHROPIC_API_KEY: 'bench', ANTHROPIC_BASE_URL: modelUrl, PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    dir,
  );
  const agentWorker = await createAgentWorker(config);
  const running = agentWorker.run();
  const client = await TaskClient.connect(config);
  return {
    config,
    client,
    async stop() {
      await client.close();
      agentWorker.worker.shutdown();
      await running;
    },
  };
}
