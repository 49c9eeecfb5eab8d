/**
 * The embedded default: when nothing answers at TEMPORAL_ADDRESS, start the Temporal dev server
 * (SQLite under AGENT_HOME, Web UI on TEMPORAL_UI_PORT) so `agent run` works on a bare machine.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '../client/user-error';
import type { Config } from '../services/config';
import { findTemporalCli, isPortOpen, startDevServer, type DevServer } from '../services/temporal-dev-server';

export function embeddedPaths(config: Config) {
  return {
    db: path.join(config.home, 'temporal.db'),
    log: path.join(config.home, 'temporal.log'),
    pid: path.join(config.home, 'temporal.pid'),
    /** The in-process worker's and the SDK's log lines (see installWorkerLogging in cli.ts). */
    workerLog: path.join(config.home, 'agent.log'),
  };
}

/**
 * Returns null when a server already answers; otherwise starts the dev server. `detached` keeps it
 * running after this process exits (so later `agent status` calls find it). Throws UserError.
 */
export async function ensureServer(config: Config, { detached, log }: { detached: boolean; log: (line: string) => void }): Promise<DevServer | null> {
  if (await isPortOpen(config.temporal.address)) return null;
  if (config.temporal.devServer === 'never') {
    throw new UserError(`no Temporal server answers at ${config.temporal.address} and AGENT_DEV_SERVER=never; start one or unset it`);
  }
  const cliPath = await findTemporalCli(config.temporal.cliPath);
  if (!cliPath) {
    throw new UserError('the Temporal CLI is not installed: run `npm run setup` (or set TEMPORAL_CLI_PATH, or TEMPORAL_ADDRESS to a running server)');
  }
  const paths = embeddedPaths(config);
  log(`starting the embedded Temporal dev server at ${config.temporal.address} (data: ${paths.db}, log: ${paths.log})`);
  const server = await startDevServer({
    cliPath,
    address: config.temporal.address,
    uiPort: config.temporal.uiPort,
    namespace: config.temporal.namespace,
    dbFile: paths.db,
    logFile: paths.log,
    detached,
  });
  await writeFile(paths.pid, String(server.process.pid));
  log(`Temporal Web UI: ${server.uiUrl}`);
  return server;
}

/** Stops a dev server started detached by an earlier `agent run`. Returns false when none was running. */
export async function stopEmbeddedServer(config: Config): Promise<boolean> {
  const { pid: pidFile } = embeddedPaths(config);
  const pid = Number(await readFile(pidFile, 'utf8').catch(() => ''));
  if (!pid) return false;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    await rm(pidFile, { force: true });
    return false;
  }
  for (let i = 0; i < 50; i++) {
    try {
      process.kill(pid, 0);
      await new Promise((r) => setTimeout(r, 100));
    } catch {
      break;
    }
  }
  await rm(pidFile, { force: true });
  return true;
}

export function webUiLink(config: Config, taskId: string): string {
  const host = config.temporal.address.split(':')[0] || 'localhost';
  return `http://${host}:${config.temporal.uiPort}/namespaces/${config.temporal.namespace}/workflows/${taskId}`;
}
