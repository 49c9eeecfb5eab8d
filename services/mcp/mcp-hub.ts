/**
 * The worker's MCP clients (the official SDK): one connection per configured server, started on
 * first use and kept for the tasks that follow. A stdio server runs inside the OS sandbox by
 * default (its workspace writable, the agent's own state hidden, no network but the domains its
 * entry names, through the sandbox's proxy); a Streamable HTTP server is reached from the worker.
 * A connection that dies (the server crashed or exited) is dropped and started again on the next use.
 *
 * What a server says about itself is data: tool names are namespaced and cut to what the model API
 * accepts, descriptions are capped and labelled with their server, and nothing a server says can
 * change a decision: risk comes only from the annotations, read once when the task prepares.
 */
import { createHash } from 'node:crypto';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ErrorCode, McpError, ToolListChangedNotificationSchema, type CallToolResult, type Tool } from '@modelcontextprotocol/sdk/types.js';
import { mcpRisk, type McpToolEntry, type McpToolName, type McpToolTarget } from '../../domain/mcp';
import { sandboxSettings, type Config } from '../config';
import type { PolicySources } from '../policy/policy-sources';
import { expandHome } from '../policy/rules';
import { detectSandbox } from '../sandbox/bubblewrap';
import { commandEnv, prepareCommand, type SandboxRequest } from '../tools/run-command';
import { ToolInputError, workspaceRoot } from '../tools/workspace';
import { DEFAULT_MCP_TIMEOUT_SECONDS, expandVariables, loadMcpServers, McpConfigError, type McpServerConfig, type McpServers } from './mcp-config';

/** What the model reads of one tool's description; a longer one is cut with a note. */
const DESCRIPTION_CHARS = 1_500;
/** A tool whose argument schema is larger than this is not offered (it would crowd every request). */
const SCHEMA_BYTES = 16 * 1024;
/** At most this many tools of one server are offered. */
const TOOLS_PER_SERVER = 100;
/** The last part of a server's stderr kept to explain why it stopped. */
const STDERR_TAIL = 2_000;

export interface McpHubOptions {
  /** AGENT_HOME, where the user's mcp.json lives. */
  home: string;
  /** Whether the workspace's .mcp.json, with this text, is trusted. */
  trusted(workspace: string, text: string): Promise<boolean>;
  /** What every sandbox hides and what its proxy refuses, whatever an entry grants. */
  sandbox: { hidden: string[]; refuse: string[] };
  /** How long starting a server and listing its tools may take. */
  connectTimeoutMs: number;
  /** A connection unused this long is closed (the next use starts it again). */
  idleMs?: number;
}

/** A task's MCP tools and what could not be offered. */
export interface McpCatalog {
  tools: McpToolEntry[];
  /** One line per server for the trace: its tools, or why it has none. */
  lines: string[];
}

interface Connection {
  client: Client;
  server: McpServerConfig;
  /** The server's tools as last listed; dropped when it says its list changed. */
  tools?: Tool[];
  stderr: string;
  lastUsed: number;
  /** Calls running now: a connection in use is never closed as idle, however long its call takes. */
  inFlight: number;
  closed: boolean;
  close(): Promise<void>;
}

export class McpHub {
  private readonly connections = new Map<string, Promise<Connection>>();
  private readonly sweeper: NodeJS.Timeout;

  /** The hub a worker with this configuration has: its AGENT_HOME, its sandbox boundaries, the user's trust in workspace files. */
  static forConfig(config: Config, policy: PolicySources): McpHub {
    return new McpHub({
      home: config.home,
      trusted: (workspace, text) => policy.isTrusted(workspace, '.mcp.json', text),
      sandbox: sandboxSettings(config),
      connectTimeoutMs: config.mcpStartTimeoutMs,
    });
  }

  constructor(private readonly options: McpHubOptions) {
    const idleMs = options.idleMs ?? 10 * 60_000;
    this.sweeper = setInterval(() => void this.closeIdle(idleMs), Math.min(idleMs, 60_000));
    this.sweeper.unref();
  }

  /** The servers in force for a workspace, with notices. Never throws for a bad file. */
  async servers(workspace: string): Promise<McpServers> {
    return await this.serversAt(await workspaceRoot(workspace));
  }

  /** The same, for a workspace already resolved to its root. */
  private async serversAt(root: string): Promise<McpServers> {
    return await loadMcpServers(this.options.home, root, (text) => this.options.trusted(root, text));
  }

  /**
   * Every tool of every server in force for the workspace, namespaced and judged by its annotations.
   * A server that cannot be started or listed in time is left out with a line saying why.
   */
  async catalog(workspace: string): Promise<McpCatalog> {
    const root = await workspaceRoot(workspace);
    const { servers, notices } = await this.serversAt(root);
    const listed = await Promise.all(
      servers.map(async (server) => {
        try {
          const tools = await this.listTools(server, root);
          return { server, ...toEntries(server, tools) };
        } catch (err) {
          return { server, tools: [] as McpToolEntry[], skipped: [], error: (err as Error).message };
        }
      }),
    );
    const tools: McpToolEntry[] = [];
    const lines = [...notices.map((n) => `mcp: ${n}`)];
    for (const { server, tools: entries, skipped, error } of listed) {
      if (error !== undefined) {
        lines.push(`mcp: server "${server.name}" (${server.source}) offers no tools: ${error}`);
        continue;
      }
      tools.push(...entries);
      const readOnly = entries.filter((e) => e.readOnly).length;
      lines.push(`mcp: server "${server.name}" (${server.source}): ${entries.length} tool${entries.length === 1 ? '' : 's'}, ${readOnly} read-only`);
      for (const s of skipped) lines.push(`mcp: server "${server.name}": ${s}`);
    }
    return { tools, lines };
  }

  /**
   * Calls one tool with the arguments the gate cleared and returns its result as text. Throws
   * ToolInputError (for the model) when the tool reports an error, the server is gone or no longer
   * configured, or it stops mid-call; the runner's deadline aborts `signal`.
   */
  async call(workspace: string, target: McpToolTarget, args: Record<string, unknown>, signal: AbortSignal): Promise<string> {
    const root = await workspaceRoot(workspace);
    const server = (await this.serversAt(root)).servers.find((s) => s.name === target.server);
    if (!server) throw new ToolInputError(`MCP server "${target.server}" is no longer configured for this workspace, so ${target.tool} was not called`);
    const connection = await this.connect(server, root).catch((err: Error) => {
      throw new ToolInputError(`MCP server "${server.name}" could not be started: ${err.message}`);
    });
    connection.lastUsed = Date.now();
    connection.inFlight++;
    let result: CallToolResult;
    try {
      result = (await connection.client.callTool({ name: target.tool, arguments: args }, undefined, {
        signal,
        timeout: target.timeoutSeconds * 1000,
      })) as CallToolResult;
    } catch (err) {
      if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : new ToolInputError(`${target.tool} was cancelled`);
      throw new ToolInputError(callFailure(server, target, err as Error, connection));
    } finally {
      connection.inFlight--;
      connection.lastUsed = Date.now();
    }
    const text = resultText(result);
    if (result.isError) throw new ToolInputError(text || `${target.tool} reported an error without a message`);
    return text;
  }

  /** Starts (or reuses) a server and lists its tools, for `agent mcp test`. Throws with the reason it failed. */
  async probe(workspace: string, name: string): Promise<{ server: McpServerConfig; tools: McpToolEntry[]; skipped: string[]; ms: number }> {
    const root = await workspaceRoot(workspace);
    const { servers } = await this.serversAt(root);
    const server = servers.find((s) => s.name === name);
    if (!server) throw new McpConfigError(`no MCP server "${name}" is configured here (configured: ${servers.map((s) => s.name).join(', ') || 'none'})`);
    const started = performance.now();
    const tools = await this.listTools(server, root);
    return { server, ...toEntries(server, tools), ms: performance.now() - started };
  }

  /** Stops every server this worker started. */
  async close(): Promise<void> {
    clearInterval(this.sweeper);
    const all = [...this.connections.values()];
    this.connections.clear();
    await Promise.all(all.map(async (p) => (await p.catch(() => null))?.close()));
  }

  private async listTools(server: McpServerConfig, root: string): Promise<Tool[]> {
    const connection = await this.connect(server, root);
    connection.lastUsed = Date.now();
    if (connection.tools) return connection.tools;
    const tools: Tool[] = [];
    let cursor: string | undefined;
    do {
      const page = await connection.client.listTools(cursor ? { cursor } : {}, { timeout: this.options.connectTimeoutMs });
      tools.push(...page.tools);
      cursor = page.nextCursor;
    } while (cursor && tools.length < TOOLS_PER_SERVER);
    connection.tools = tools;
    return tools;
  }

  /** The live connection to a server, started when there is none; concurrent callers share one start. */
  private connect(server: McpServerConfig, root: string): Promise<Connection> {
    const key = connectionKey(server, root);
    const existing = this.connections.get(key);
    if (existing) return existing;
    const starting = this.start(server, root, () => {
      if (this.connections.get(key) === starting) this.connections.delete(key);
    });
    this.connections.set(key, starting);
    starting.catch(() => this.connections.get(key) === starting && this.connections.delete(key));
    return starting;
  }

  private async start(server: McpServerConfig, root: string, onClosed: () => void): Promise<Connection> {
    const client = new Client({ name: 'durable-agent', version: '0.1.0' });
    let release: () => Promise<unknown> = async () => {};
    const connection: Connection = {
      client,
      server,
      stderr: '',
      lastUsed: Date.now(),
      inFlight: 0,
      closed: false,
      close: async () => {
        connection.closed = true;
        onClosed();
        await client.close().catch(() => {});
        await release();
      },
    };
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
      connection.tools = undefined;
    });
    let transport: StdioClientTransport | StreamableHTTPClientTransport;
    if (server.type === 'http') {
      const headers = Object.fromEntries(Object.entries(server.headers).map(([k, v]) => [k, expandVariables(v, server.name)]));
      transport = new StreamableHTTPClientTransport(new URL(expandVariables(server.url, server.name)), { requestInit: { headers } });
    } else {
      const spawned = await this.stdioCommand(server, root);
      release = spawned.release;
      transport = new StdioClientTransport({ command: spawned.file, args: spawned.args, env: spawned.env, cwd: root, stderr: 'pipe' });
      transport.stderr?.on('data', (chunk: Buffer) => {
        connection.stderr = (connection.stderr + chunk.toString('utf8')).slice(-STDERR_TAIL);
      });
    }
    transport.onclose = () => {
      connection.closed = true;
      onClosed();
      void release();
    };
    try {
      await client.connect(transport, { timeout: this.options.connectTimeoutMs });
    } catch (err) {
      await connection.close();
      const stderr = stderrGist(connection.stderr);
      throw new Error(`${startFailure(err as Error, this.options.connectTimeoutMs)}${stderr ? ` (stderr: ${stderr})` : ''}`);
    }
    return connection;
  }

  /** What to spawn for a stdio server: bubblewrap around it, or (sandbox: false) the command itself. */
  private async stdioCommand(server: Extract<McpServerConfig, { command: string }>, root: string) {
    const env = Object.fromEntries(Object.entries(server.env).map(([k, v]) => [k, expandVariables(v, server.name)]));
    const argv = [server.command, ...server.args].map((a) => expandVariables(a, server.name));
    if (!server.sandbox) return { file: argv[0]!, args: argv.slice(1), env: commandEnv(env), release: async () => null };
    const sandbox = await detectSandbox();
    if (!sandbox.available) {
      throw new McpConfigError(`no OS sandbox on this worker (${sandbox.reason}); set "sandbox": false in its entry to run it as the worker's own process`);
    }
    const request: SandboxRequest = {
      workspace: root,
      network: server.network.length ? { allow: server.network, deny: [] } : null,
      extraReadOnly: server.readOnly.map((dir) => expandHome(expandVariables(dir, server.name))),
      hidden: this.options.sandbox.hidden,
      refuse: this.options.sandbox.refuse,
    };
    // exec: the server replaces the shell, so closing its stdin reaches it directly.
    return await prepareCommand(root, `exec ${argv.map(shellQuote).join(' ')}`, request, env);
  }

  private async closeIdle(idleMs: number): Promise<void> {
    const now = Date.now();
    for (const pending of [...this.connections.values()]) {
      const connection = await pending.catch(() => null);
      if (connection && !connection.closed && connection.inFlight === 0 && now - connection.lastUsed > idleMs) await connection.close();
    }
  }
}

/** One connection per server entry (and workspace, for a stdio server whose sandbox is that workspace). */
function connectionKey(server: McpServerConfig, root: string): string {
  const { name, source, file: _file, ...entry } = server;
  const hash = createHash('sha256').update(JSON.stringify(entry)).digest('hex').slice(0, 16);
  return `${source}:${name}:${hash}${server.type === 'http' ? '' : `:${root}`}`;
}

/** The namespaced entries of a server's tools, and the tools left out with why. */
function toEntries(server: McpServerConfig, tools: Tool[]): { tools: McpToolEntry[]; skipped: string[] } {
  const entries: McpToolEntry[] = [];
  const skipped: string[] = [];
  const names = new Set<string>();
  for (const tool of tools.slice(0, TOOLS_PER_SERVER)) {
    const schemaBytes = Buffer.byteLength(JSON.stringify(tool.inputSchema ?? {}));
    if (schemaBytes > SCHEMA_BYTES) {
      skipped.push(`tool "${printable(tool.name, 64)}" not offered: its argument schema is ${schemaBytes} bytes (over ${SCHEMA_BYTES})`);
      continue;
    }
    const name = namespacedName(server.name, tool.name, names);
    names.add(name);
    entries.push({
      name,
      server: server.name,
      tool: tool.name,
      description: describeTool(server.name, tool),
      inputSchema: { ...(tool.inputSchema as Record<string, unknown>), type: 'object' },
      timeoutSeconds: server.timeoutSeconds ?? DEFAULT_MCP_TIMEOUT_SECONDS,
      ...mcpRisk(tool.annotations),
    });
  }
  if (tools.length > TOOLS_PER_SERVER) skipped.push(`${tools.length - TOOLS_PER_SERVER} more tools not offered (at most ${TOOLS_PER_SERVER} per server)`);
  return { tools: entries, skipped };
}

/** `mcp__<server>__<tool>` in the characters the model API allows, at most 64, unique within the server. */
function namespacedName(server: string, tool: string, taken: Set<string>): McpToolName {
  const prefix = `mcp__${server}__`;
  const cleaned = tool.replace(/[^A-Za-z0-9_-]/g, '_') || 'tool';
  let name = `${prefix}${cleaned}`;
  if (name.length > 64 || taken.has(name)) {
    const hash = createHash('sha256').update(tool).digest('hex').slice(0, 8);
    name = `${prefix}${cleaned.slice(0, Math.max(1, 64 - prefix.length - 9))}_${hash}`;
  }
  return name as McpToolName;
}

/** The description the model reads: from the server, labelled as such, without control characters, capped. */
function describeTool(server: string, tool: Tool): string {
  const own = printable(tool.description ?? tool.title ?? '', DESCRIPTION_CHARS);
  return `[MCP server "${server}"] ${own || `(no description) ${printable(tool.name, 64)}`}`;
}

/** Text without terminal escape sequences or control characters (newlines and tabs kept), cut to `max` characters with a note. */
function printable(text: string, max: number): string {
  const clean = text
    .replace(/\u001b(?:\[[0-9;?]*[ -/]*[@-~]|\][^\u0007\u001b]*(?:\u0007|\u001b\\)?|[@-Z\\-_])/g, '')
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069]/g, '');
  return clean.length > max ? `${clean.slice(0, max)}… [cut at ${max} characters]` : clean;
}

/** A tool result as the model reads it: text as is, other content named by kind and size. */
function resultText(result: CallToolResult): string {
  const parts = (result.content ?? []).map((block) => {
    switch (block.type) {
      case 'text':
        return block.text;
      case 'image':
      case 'audio':
        return `[${block.type} ${block.mimeType}, ${Math.floor((block.data.length * 3) / 4)} bytes, not shown]`;
      case 'resource':
        return 'text' in block.resource ? block.resource.text : `[resource ${block.resource.uri} (${block.resource.mimeType ?? 'binary'}), not shown]`;
      case 'resource_link':
        return `[resource ${block.uri}${block.name ? ` (${block.name})` : ''}]`;
      default:
        return '[content of an unknown kind, not shown]';
    }
  });
  if (parts.length === 0 && result.structuredContent !== undefined) parts.push(JSON.stringify(result.structuredContent, null, 2));
  return parts.join('\n');
}

function startFailure(err: Error, timeoutMs: number): string {
  if (err instanceof McpError && err.code === ErrorCode.RequestTimeout) return `it did not answer within ${timeoutMs / 1000}s`;
  if (err instanceof McpError && err.code === ErrorCode.ConnectionClosed) return 'it exited during start-up';
  return err.message;
}

/**
 * What a server's stderr says about why it stopped, in a line: its last error line (the stack
 * frames and the runtime banner that follow it say nothing), else its last two lines.
 */
function stderrGist(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !/^at\s/.test(line));
  const error = lines.filter((line) => /error|exception|fatal|panic|cannot|denied|refused/i.test(line)).pop();
  return (error ?? lines.slice(-2).join(' | ')).slice(0, 500);
}

function callFailure(server: McpServerConfig, target: McpToolTarget, err: Error, connection: Connection): string {
  const effect = target.readOnly ? '' : '; it may or may not have taken effect, so check before calling it again';
  if (err instanceof McpError && err.code === ErrorCode.RequestTimeout) return `${target.tool} on MCP server "${server.name}" timed out after ${target.timeoutSeconds}s${effect}`;
  if (connection.closed || (err instanceof McpError && err.code === ErrorCode.ConnectionClosed)) {
    const stderr = stderrGist(connection.stderr);
    return `MCP server "${server.name}" stopped before answering ${target.tool}${effect} (it is started again on the next call)${stderr ? `; stderr: ${stderr}` : ''}`;
  }
  return `${target.tool} on MCP server "${server.name}" failed: ${err.message}${effect}`;
}

function shellQuote(word: string): string {
  return /^[A-Za-z0-9_./=:@%+-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
