/**
 * `agent mcp list|add|remove|test`: the MCP servers a task may use. `add` and `remove` edit the
 * user's file (AGENT_HOME/mcp.json); a workspace's own `.mcp.json` is edited by hand and used after
 * `agent trust`. `test` starts a server exactly as a worker would (in the sandbox for stdio) and
 * lists its tools with the risk the policy will give them.
 */
import path from 'node:path';
import { UserError } from '../../client/user-error';
import { McpConfigError, UserMcpFile, userMcpFile, workspaceMcpFile } from '../../services/mcp/mcp-config';
import { McpHub } from '../../services/mcp/mcp-hub';
import { PolicySources } from '../../services/policy/policy-sources';
import { resolveWorkspace } from '../arguments';
import type { CliContext } from '../cli-context';

/** The MCP hub a worker started with this configuration would have; the caller closes it. */
export function mcpHub(ctx: CliContext): McpHub {
  return McpHub.forConfig(ctx.config, new PolicySources(ctx.config.home, ctx.config.userDir));
}

/** `agent mcp list`: the servers in force for the workspace, where each comes from, and what was skipped. Starts nothing. */
export async function mcpListCommand(ctx: CliContext, workspaceArg: string | undefined): Promise<number> {
  const workspace = await resolveWorkspace(workspaceArg ?? process.cwd());
  const mcp = mcpHub(ctx);
  try {
    const { servers, notices } = await mcp.servers(workspace);
    const rows = servers.map((s) => ({
      name: s.name,
      source: s.source,
      file: s.file,
      transport: s.type === 'http' ? 'http' : 'stdio',
      target: s.type === 'http' ? s.url : [s.command, ...s.args].join(' '),
      sandbox: s.type === 'http' ? null : s.sandbox,
    }));
    if (ctx.json) {
      ctx.emit({ workspace, files: { user: userMcpFile(ctx.config.home), workspace: workspaceMcpFile(workspace) }, servers: rows, notices });
      return 0;
    }
    if (rows.length === 0) ctx.out(`no MCP servers (add one with \`agent mcp add NAME -- COMMAND ARGS...\` or \`agent mcp add NAME --url URL\`)`);
    for (const r of rows) {
      const how = r.transport === 'http' ? 'http' : r.sandbox ? 'stdio, sandboxed' : 'stdio, NOT sandboxed';
      ctx.out(`${r.name.padEnd(16)} ${r.source.padEnd(9)} ${how.padEnd(20)} ${r.target}`);
    }
    for (const n of notices) ctx.out(`note: ${n}`);
    return 0;
  } finally {
    await mcp.close();
  }
}

export interface McpAddOptions {
  url?: string;
  headers: string[];
  env: string[];
  network: string[];
  readOnly: string[];
  noSandbox: boolean;
  timeout?: string;
  /** The command and its arguments (after `--`), for a stdio server. */
  command: string[];
}

/** `agent mcp add NAME -- COMMAND ARGS...` or `agent mcp add NAME --url URL`: adds (or replaces) a server in the user's file. */
export async function mcpAddCommand(ctx: CliContext, name: string, options: McpAddOptions): Promise<number> {
  if (options.url && options.command.length) throw new UserError('give either --url (an HTTP server) or `-- COMMAND ARGS...` (a stdio server), not both', 2);
  if (!options.url && options.command.length === 0) throw new UserError('missing the server: `agent mcp add NAME -- COMMAND ARGS...` or `agent mcp add NAME --url URL`', 2);
  const pairs = (list: string[], separator: string, flag: string) =>
    Object.fromEntries(
      list.map((item) => {
        const at = item.indexOf(separator);
        if (at <= 0) throw new UserError(`--${flag} "${item}": write ${flag === 'header' ? '"Name: value"' : 'NAME=value'}`, 2);
        return [item.slice(0, at).trim(), item.slice(at + separator.length).trim()];
      }),
    );
  const timeoutSeconds = options.timeout === undefined ? undefined : Number(options.timeout);
  if (timeoutSeconds !== undefined && !(Number.isInteger(timeoutSeconds) && timeoutSeconds > 0)) throw new UserError('--timeout: a whole number of seconds, e.g. 60', 2);
  const entry = options.url
    ? { type: 'http', url: options.url, ...(options.headers.length ? { headers: pairs(options.headers, ':', 'header') } : {}), ...(timeoutSeconds ? { timeoutSeconds } : {}) }
    : {
        command: options.command[0],
        args: options.command.slice(1),
        ...(options.env.length ? { env: pairs(options.env, '=', 'env') } : {}),
        ...(options.noSandbox ? { sandbox: false } : {}),
        ...(options.network.length ? { network: options.network } : {}),
        ...(options.readOnly.length ? { readOnly: options.readOnly.map((dir) => path.resolve(dir)) } : {}),
        ...(timeoutSeconds ? { timeoutSeconds } : {}),
      };
  const file = new UserMcpFile(userMcpFile(ctx.config.home));
  try {
    await file.add(name, entry);
  } catch (err) {
    if (err instanceof McpConfigError) throw new UserError(err.message, 2);
    throw err;
  }
  ctx.out(`added MCP server "${name}" to ${file.file}; its tools are offered from the next task on (check it with \`agent mcp test ${name}\`)`);
  return 0;
}

/** `agent mcp remove NAME`: removes a server from the user's file. */
export async function mcpRemoveCommand(ctx: CliContext, name: string): Promise<number> {
  const file = new UserMcpFile(userMcpFile(ctx.config.home));
  if (!(await file.remove(name))) throw new UserError(`no MCP server "${name}" in ${file.file} (see \`agent mcp list\`; a workspace's servers live in its .mcp.json)`);
  ctx.out(`removed MCP server "${name}" from ${file.file}`);
  return 0;
}

/** `agent mcp test NAME`: starts the server as a worker would and lists its tools with their risk. Exits 1 with the reason when it cannot. */
export async function mcpTestCommand(ctx: CliContext, name: string, workspaceArg: string | undefined): Promise<number> {
  const workspace = await resolveWorkspace(workspaceArg ?? process.cwd());
  const mcp = mcpHub(ctx);
  try {
    const probe = await mcp.probe(workspace, name).catch((err: Error) => {
      throw new UserError(`MCP server "${name}" failed: ${err.message}`);
    });
    const tools = probe.tools.map((t) => ({ name: t.name, risk: t.risk, hints: t.hints, idempotent: t.idempotent }));
    if (ctx.json) {
      ctx.emit({ server: name, source: probe.server.source, ms: Math.round(probe.ms), tools, skipped: probe.skipped });
      return 0;
    }
    ctx.out(`MCP server "${name}" (${probe.server.source}) answered in ${Math.round(probe.ms)} ms with ${tools.length} tool${tools.length === 1 ? '' : 's'}:`);
    for (const t of tools) {
      const note = [t.hints === t.risk ? '' : t.hints, t.risk === 'read-only' ? '' : '(asks unless a rule allows it)'].filter(Boolean).join(' ');
      ctx.out(`  ${t.name.padEnd(40)} ${t.risk.padEnd(12)} ${note}`.trimEnd());
    }
    for (const s of probe.skipped) ctx.out(`note: ${s}`);
    return 0;
  } finally {
    await mcp.close();
  }
}
