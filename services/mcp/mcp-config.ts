/**
 * Which MCP servers a task may use: the user's (AGENT_HOME/mcp.json) and the workspace's own
 * (`.mcp.json` at its root, the file other agents read), in the shape those agents use:
 *
 *   { "mcpServers": { "github": { "type": "http", "url": "https://…", "headers": { "Authorization": "Bearer ${GITHUB_TOKEN}" } },
 *                     "files":  { "command": "node", "args": ["server.js"], "env": { "ROOT": "." } } } }
 *
 * A workspace's file arrives with the repository, so its servers start only after the user trusted
 * that exact content (`agent trust`), like its policy. A bad entry is skipped with a notice; MCP
 * servers add tools, so a broken one never stops a task. `${VAR}` and `${VAR:-default}` in env,
 * args, url and headers are read from the worker's environment when the server starts, so tokens
 * stay out of the files.
 */
import path from 'node:path';
import { z } from 'zod';
import { MCP_SERVER_NAME } from '../../domain/mcp';
import { readFileIfExists, writeFileAtomic } from '../atomic-file';
import { hostEnvironment } from '../config';
import { loadSettingsLayers, settingsSection, type SettingsLayer } from '../settings-file';

/** A tool call on a server gets this long unless its entry says otherwise. */
export const DEFAULT_MCP_TIMEOUT_SECONDS = 60;

const timeoutSeconds = z.number().int().min(1).max(600).optional().describe('How long one tool call may take');

const StdioEntry = z.strictObject({
  type: z.literal('stdio').optional(),
  command: z.string().min(1),
  args: z.array(z.string()).default([]),
  env: z.record(z.string(), z.string()).default({}),
  /** Run inside the OS sandbox (the workspace writable, no network but `network`); false runs it as the worker's own process. */
  sandbox: z.boolean().default(true),
  /** Domains the sandboxed server may reach through the sandbox's proxy. */
  network: z.array(z.string()).default([]),
  /**
   * Directories the sandboxed server may read besides the system's: where it is installed when that
   * is under a home directory or /tmp, which every sandbox hides (absolute, `~/…` or `${VAR}/…`).
   */
  readOnly: z.array(z.string().min(1)).default([]),
  timeoutSeconds,
});

const HttpEntry = z.strictObject({
  type: z.literal('http'),
  url: z.string().url(),
  headers: z.record(z.string(), z.string()).default({}),
  timeoutSeconds,
});

const ServerEntry = z.union([StdioEntry, HttpEntry]);
export type McpServerEntry = z.infer<typeof ServerEntry>;

export type McpServerConfig = McpServerEntry & {
  name: string;
  /** Where it was configured: the user's file, or the workspace's trusted one. */
  source: 'user' | 'workspace';
  file: string;
};

export interface McpServers {
  servers: McpServerConfig[];
  /** One line each for the trace and the CLI: what was skipped and why. */
  notices: string[];
}

export class McpConfigError extends Error {}

/** The user's MCP file. */
export const userMcpFile = (home: string): string => path.join(home, 'mcp.json');
/** The workspace's MCP file: where other agents look for a project's servers. */
export const workspaceMcpFile = (workspace: string): string => path.join(workspace, '.mcp.json');

/** The entries of one file, each checked on its own; a bad one becomes a notice. */
function parseFile(text: string, file: string, source: McpServerConfig['source']): SettingsLayer<McpServerConfig> {
  const section = settingsSection(text, file, 'mcpServers', 'its MCP servers were not started', '{"mcpServers": {"name": {"command": …}}}');
  if ('notice' in section) return { items: [], notices: [section.notice] };
  const servers: McpServerConfig[] = [];
  const notices: string[] = [];
  for (const [name, value] of Object.entries(section.entries)) {
    if (!MCP_SERVER_NAME.test(name)) {
      notices.push(`${file}: MCP server "${name}" skipped: a name is up to 32 letters, digits and "-" (no "_"), so its tools can be named mcp__${'<server>'}__<tool>`);
      continue;
    }
    const parsed = ServerEntry.safeParse(value);
    if (!parsed.success) {
      notices.push(`${file}: MCP server "${name}" skipped: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'entry'}: ${i.message}`).join('; ')}`);
      continue;
    }
    servers.push({ ...parsed.data, name, source, file });
  }
  return { items: servers, notices };
}

/**
 * The servers in force for a workspace: the user's, then the workspace's when its file is trusted
 * (a workspace server never replaces a user server of the same name). Never throws for a bad file.
 * `trusted` answers whether the workspace file's current text is the one the user trusted.
 */
export async function loadMcpServers(home: string, workspace: string, trusted: (text: string) => Promise<boolean>): Promise<McpServers> {
  const wsFile = workspaceMcpFile(workspace);
  const {
    user,
    workspace: ws,
    notices,
  } = await loadSettingsLayers(
    { user: userMcpFile(home), workspace: wsFile },
    parseFile,
    trusted,
    (servers) =>
      `${wsFile} is not trusted, so its MCP servers (${servers.map((s) => s.name).join(', ')}) were not started. Review the file, then run \`agent trust ${workspace}\` to use them.`,
  );
  const taken = new Set(user.items.map((s) => s.name));
  const shadowed = (ws?.items ?? []).filter((s) => taken.has(s.name));
  return {
    servers: [...user.items, ...(ws?.items ?? []).filter((s) => !taken.has(s.name))],
    notices: [...notices, ...shadowed.map((s) => `${wsFile}: MCP server "${s.name}" is also configured by the user; the user's is used`)],
  };
}

/**
 * Replaces `${VAR}` and `${VAR:-default}` with the worker's environment. Throws McpConfigError
 * naming the variable when one is unset and has no default.
 */
export function expandVariables(text: string, server: string): string {
  const env = hostEnvironment();
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g, (_, name: string, fallback: string | undefined) => {
    const value = env[name];
    if (value !== undefined && value !== '') return value;
    if (fallback !== undefined) return fallback;
    throw new McpConfigError(`MCP server "${server}" needs the environment variable ${name}, which the worker does not have`);
  });
}

/** The user's MCP file, for `agent mcp add|remove`. Throws McpConfigError on a malformed file or entry. */
export class UserMcpFile {
  constructor(readonly file: string) {}

  async entries(): Promise<Record<string, unknown>> {
    const text = await readFileIfExists(this.file);
    if (text === null) return {};
    try {
      const raw = JSON.parse(text) as { mcpServers?: Record<string, unknown> };
      return raw.mcpServers ?? {};
    } catch (err) {
      throw new McpConfigError(`${this.file} is not valid JSON: ${(err as Error).message}`);
    }
  }

  /** Adds or replaces a server; the entry is validated first. */
  async add(name: string, entry: unknown): Promise<void> {
    if (!MCP_SERVER_NAME.test(name)) throw new McpConfigError(`"${name}" is not a server name: use up to 32 letters, digits and "-"`);
    const parsed = ServerEntry.safeParse(entry);
    if (!parsed.success) throw new McpConfigError(`MCP server "${name}": ${parsed.error.issues.map((i) => `${i.path.join('.') || 'entry'}: ${i.message}`).join('; ')}`);
    const entries = await this.entries();
    entries[name] = entry;
    await this.write(entries);
  }

  /** Removes a server; returns whether it was there. */
  async remove(name: string): Promise<boolean> {
    const entries = await this.entries();
    if (!(name in entries)) return false;
    delete entries[name];
    await this.write(entries);
    return true;
  }

  private async write(entries: Record<string, unknown>): Promise<void> {
    // Owner-only: headers and env may carry tokens.
    await writeFileAtomic(this.file, `${JSON.stringify({ mcpServers: entries }, null, 2)}\n`, { mode: 0o600 });
  }
}
