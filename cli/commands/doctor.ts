/** `agent doctor`: what is configured and what is reachable, each with the fix when it is not. */
import { execFile } from 'node:child_process';
import { access, constants, mkdir, readFile, realpath } from 'node:fs/promises';
import { promisify } from 'node:util';
import { NativeConnection } from '@temporalio/worker';
import pg from 'pg';
import { CUSTOM_SEARCH_ATTRIBUTES } from '../../domain/search-attributes';
import { loadApproverIdentity } from '../../services/approvals/approver-key';
import { loadHooks } from '../../services/hooks/hook-config';
import { loadMcpServers } from '../../services/mcp/mcp-config';
import { memoryStatus } from '../../services/memory/memory-status';
import { PolicySources } from '../../services/policy/policy-sources';
import { detectSandbox } from '../../services/sandbox/bubblewrap';
import { findTemporalCli, isPortOpen } from '../../services/temporal-dev-server';
import type { CliContext } from '../cli-context';
import { embeddedPaths } from '../embedded';

interface Check {
  name: string;
  ok: boolean;
  detail: string;
  fix?: string;
}

const run = promisify(execFile);

export async function doctorCommand(ctx: CliContext): Promise<number> {
  const { config } = ctx;
  const checks: Check[] = [];
  const add = (c: Check) => checks.push(c);

  const cli = await findTemporalCli(config.temporal.cliPath);
  const version = cli ? (await run(cli, ['--version']).catch(() => ({ stdout: '?' }))).stdout.trim() : '';
  add({ name: 'temporal-cli', ok: !!cli, detail: cli ? `${cli} (${version})` : 'not found', fix: 'npm run setup' });

  const reachable = await isPortOpen(config.temporal.address);
  add({
    name: 'temporal-server',
    ok: reachable || (config.temporal.devServer === 'auto' && !!cli),
    detail: reachable
      ? `${config.temporal.address} answers`
      : `nothing at ${config.temporal.address}${config.temporal.devServer === 'auto' ? ' (the embedded dev server starts on demand)' : ''}`,
    fix: 'agent up',
  });
  if (reachable) {
    try {
      const connection = await NativeConnection.connect({ address: config.temporal.address });
      try {
        const attrs = await connection.operatorService.listSearchAttributes({ namespace: config.temporal.namespace });
        const missing = Object.keys(CUSTOM_SEARCH_ATTRIBUTES).filter((n) => !(n in (attrs.customAttributes ?? {})));
        add({
          name: 'search-attributes',
          ok: missing.length === 0,
          detail: missing.length ? `missing: ${missing.join(', ')}` : 'registered',
          fix: 'start a worker (it registers them)',
        });
        const tq = await connection.workflowService.describeTaskQueue({ namespace: config.temporal.namespace, taskQueue: { name: config.temporal.taskQueue }, taskQueueType: 1 });
        const recent = (tq.pollers ?? []).filter((p) => Number(p.lastAccessTime?.seconds ?? 0) * 1000 > Date.now() - 90_000);
        add({ name: 'workers', ok: recent.length > 0, detail: `${recent.length} seen polling ${config.temporal.taskQueue} in the last 90s`, fix: 'agent worker (or agent up)' });
      } finally {
        await connection.close();
      }
    } catch (err) {
      add({ name: 'namespace', ok: false, detail: (err as Error).message.split('\n')[0]!, fix: `check TEMPORAL_NAMESPACE (${config.temporal.namespace})` });
    }
  }

  add({
    name: 'model',
    ok: !!config.llm.apiKey,
    detail: config.llm.apiKey ? `${config.llm.model} via ${config.llm.baseURL ?? 'api.anthropic.com'}` : 'ANTHROPIC_API_KEY not set',
    fix: 'export ANTHROPIC_API_KEY=... (or run `agent demo` offline)',
  });

  const devServer = await devServerSettings(config);
  if (devServer) add(devServer);

  const sandbox = await detectSandbox();
  add({
    name: 'sandbox',
    ok: sandbox.available,
    detail: sandbox.available ? `${sandbox.reason}` : `${sandbox.reason}; every command will need a human`,
    fix: 'apt-get install bubblewrap (and allow unprivileged user namespaces)',
  });
  add({
    name: 'sandbox-network',
    ok: !!sandbox.socat,
    detail: sandbox.socat
      ? `${sandbox.socat}: commands that need the network reach only allowed domains, through a proxy`
      : 'socat not found: commands that need the network cannot get it',
    fix: 'apt-get install socat',
  });
  const approver = await loadApproverIdentity(config.userDir).then(
    (identity) => ({
      ok: true,
      detail: `key ${identity.key.id} in ${config.userDir} (tasks started here accept only decisions it signs${config.approverKeys.length ? `, and ${config.approverKeys.length} from AGENT_APPROVER_KEYS` : ''})`,
    }),
    (err: Error) => ({ ok: false, detail: err.message }),
  );
  add({ name: 'approver-key', ...approver, fix: `make ${config.userDir} writable (or set AGENT_USER_DIR)` });

  if (config.databaseUrl) {
    const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 1, connectionTimeoutMillis: 3_000 });
    const res = await pool.query('SELECT version()').then(
      (r) => ({ ok: true, detail: String(r.rows[0].version).split(',')[0]! }),
      (err: Error) => ({ ok: false, detail: err.message }),
    );
    await pool.end();
    add({ name: 'state-store', ok: res.ok, detail: `PostgreSQL: ${res.detail}`, fix: 'check DATABASE_URL' });
  } else {
    const ok = await mkdir(config.home, { recursive: true }).then(
      () =>
        access(config.home, constants.W_OK).then(
          () => true,
          () => false,
        ),
      () => false,
    );
    add({ name: 'state-store', ok, detail: `files under ${config.home} (set DATABASE_URL for PostgreSQL)`, fix: `make ${config.home} writable or set AGENT_HOME` });
  }

  // Opens the store: shows the backend, vectors or the full-text fallback, and who holds an embedded one.
  add({ name: 'memory-store', ...(await memoryStatus(config)) });

  // MCP servers and hooks for the current directory's workspace, as a task there would load them (nothing is started).
  const workspace = await realpath(process.cwd()).catch(() => process.cwd());
  const policy = new PolicySources(config.home, config.userDir);
  const mcp = await loadMcpServers(config.home, workspace, (text) => policy.isTrusted(workspace, '.mcp.json', text));
  add({
    name: 'mcp-servers',
    ok: mcp.notices.length === 0,
    detail: `${mcp.servers.length ? mcp.servers.map((s) => `${s.name} (${s.source}, ${s.type === 'http' ? 'http' : s.sandbox ? 'stdio, sandboxed' : 'stdio'})`).join(', ') : 'none'}${mcp.notices.map((n) => `\n    ${n}`).join('')}`,
    fix: 'fix or remove the entries named above (`agent mcp list`); `agent mcp test NAME` starts one as a worker would',
  });
  const hooks = await loadHooks(config.home, workspace, (text) => policy.isTrusted(workspace, '.agent/hooks.json', text));
  add({
    name: 'hooks',
    ok: hooks.notices.length === 0,
    detail: `${hooks.hooks.length ? hooks.hooks.map((h) => `${h.event}${h.matcher ? `(${h.matcher})` : ''} ${h.source}`).join(', ') : 'none'}${hooks.notices.map((n) => `\n    ${n}`).join('')}`,
    fix: 'fix the hook files named above (AGENT_HOME/hooks.json, .agent/hooks.json)',
  });

  if (ctx.json) ctx.emit({ ok: checks.every((c) => c.ok), checks });
  else for (const c of checks) ctx.out(`${c.ok ? '✔' : '✖'} ${c.name.padEnd(18)} ${c.detail}${c.ok || !c.fix ? '' : `\n    fix: ${c.fix}`}`);
  return checks.every((c) => c.ok) ? 0 : 1;
}

/**
 * Whether the embedded dev server this AGENT_HOME started runs with the settings that matter: the
 * transfer-task poll rate (the default 20/s puts a 50 ms floor under every step) and SQLite in WAL
 * mode. null when no embedded server of ours runs (agent starts it with them).
 */
async function devServerSettings(config: CliContext['config']): Promise<Check | null> {
  const pid = Number((await readFile(embeddedPaths(config).pid, 'utf8').catch(() => '')).trim());
  if (!Number.isInteger(pid) || pid <= 0) return null;
  const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0');
  if (!cmdline.some((a) => a.endsWith('temporal') || a === 'server')) return null;
  const fast = cmdline.includes('history.transferProcessorMaxPollRPS=1000');
  const wal = cmdline.includes('journal_mode=WAL');
  return {
    name: 'dev-server',
    ok: fast && wal,
    detail:
      fast && wal
        ? `embedded server (pid ${pid}) runs with transferProcessorMaxPollRPS=1000 and SQLite in WAL mode`
        : `embedded server (pid ${pid}) was started without ${[fast ? null : 'transferProcessorMaxPollRPS=1000 (a 50 ms floor under every step)', wal ? null : 'SQLite WAL mode'].filter(Boolean).join(' and ')}`,
    fix: 'restart it: agent down, then agent up (or any agent run)',
  };
}
