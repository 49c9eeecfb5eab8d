/**
 * Starts the real components the suite shares: a Temporal dev server (the official CLI, Web UI
 * on), a PostgreSQL cluster, and one workflow bundle so each test worker skips webpack.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { findTemporalCli, freePort, startDevServer, type DevServer } from '../../services/temporal-dev-server';
import { WORKFLOWS_PATH } from '../../workers/worker';
import { cachedWorkflowBundle } from '../../workers/workflow-bundle';
import { startTestPostgres, type TestPostgres } from './postgres';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    temporalUiUrl: string;
    temporalUiPort: number;
    workflowBundlePath: string;
    postgresUrl: string;
    tmpRoot: string;
  }
}

let server: DevServer | undefined;
let postgres: TestPostgres | undefined;
let tmpRoot: string | undefined;

export async function setup(project: TestProject) {
  const cliPath = await findTemporalCli(process.env.TEMPORAL_CLI_PATH);
  if (!cliPath) throw new Error('the Temporal CLI is missing: run `npm run setup` first');
  tmpRoot = mkdtempSync(path.join(os.tmpdir(), 'agent-tests-'));
  // freePort() releases the port before the server binds it, so another process can take it in
  // between (seen when several suites run on one machine): try fresh ports a few times.
  let uiPort = 0;
  for (let attempt = 1; ; attempt++) {
    uiPort = await freePort();
    try {
      server = await startDevServer({
        cliPath,
        address: `127.0.0.1:${await freePort()}`,
        uiPort,
        namespace: 'default',
        logFile: path.join(tmpRoot, `temporal-${attempt}.log`),
        detached: false,
      });
      break;
    } catch (err) {
      if (attempt >= 3) throw err;
      console.warn(`global setup: ${(err as Error).message}; retrying with other ports`);
    }
  }
  postgres = startTestPostgres(await freePort());
  const { codePath: bundlePath } = await cachedWorkflowBundle(WORKFLOWS_PATH, tmpRoot);
  project.provide('temporalAddress', server.address);
  project.provide('temporalUiUrl', server.uiUrl);
  project.provide('temporalUiPort', uiPort);
  project.provide('workflowBundlePath', bundlePath);
  project.provide('postgresUrl', postgres.url);
  project.provide('tmpRoot', tmpRoot);
}

export async function teardown() {
  await server?.stop();
  postgres?.stop();
  // Keep the files (screenshots, server log) when asked to, for a person to look at after a failure.
  if (tmpRoot && !process.env.KEEP_TEST_FILES) rmSync(tmpRoot, { recursive: true, force: true });
}
