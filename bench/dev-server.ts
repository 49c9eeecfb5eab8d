/**
 * The Temporal dev server the benches measure against: the embedded default's shape, with a SQLite
 * file on disk (not in-memory), so persistence is really paid. The caller stops it.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { findTemporalCli, freePort, startDevServer, type DevServer } from '../services/temporal-dev-server';

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
