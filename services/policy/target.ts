/**
 * What a tool call acts on, as the evaluation chain judges it. The tool catalog says which kind each
 * tool has (`TOOL_SPECS[tool].target`); resolving it is the only part of a decision that reads the
 * disk (a path's symlinks) or parses (a command), so it happens once per call and the gate reuses
 * the result for the network grant and the "always" rules.
 */
import { lstat, realpath } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { McpToolEntry } from '../../domain/mcp';
import { TOOL_SPECS, type ToolName } from '../../domain/tool-catalog';
import { expandHome } from './rules';
import type { ShellAnalysis } from './shell/analysis';
import { analyzeShell } from './shell/analyze';

/** Where a call is resolved: the workspace's real path and the home directory (default: the user's). */
export interface TargetContext {
  workspace: string;
  home?: string;
}

export type PolicyTarget =
  /** A file tool's `path`: where it is written (`lexical`) and where its symlinks lead (`real`), both absolute. */
  | { kind: 'path'; requested: string; lexical: string; real: string }
  /** A shell command, analysed. */
  | { kind: 'command'; command: string; analysis: ShellAnalysis }
  /** Tools with no path and no command (command_status, inspect_environment, memory tools). */
  | { kind: 'none' }
  /** A tool of an MCP server, as the task's catalog describes it. */
  | { kind: 'mcp'; entry: McpToolEntry };

/** Resolves the target of one call. Never throws for bad input: a missing path is `.`, a missing command the empty one. */
export async function resolveTarget(tool: ToolName, input: Record<string, unknown>, ctx: TargetContext): Promise<PolicyTarget> {
  switch (TOOL_SPECS[tool].target) {
    case 'path': {
      const requested = typeof input.path === 'string' ? input.path : '.';
      return { kind: 'path', requested, ...(await pathTargets(requested, ctx)) };
    }
    case 'command': {
      const command = String(input.command ?? '');
      return { kind: 'command', command, analysis: await analyzeShell(command, { workspace: ctx.workspace, home: ctx.home ?? os.homedir() }) };
    }
    case 'none':
      return { kind: 'none' };
  }
}

/** The locations a file path stands for: where it is written, and where its symlinks lead. */
async function pathTargets(requested: string, ctx: TargetContext): Promise<{ lexical: string; real: string }> {
  const home = ctx.home ?? os.homedir();
  const expanded = expandHome(requested, home);
  const lexical = path.resolve(ctx.workspace, expanded);
  let real = lexical;
  // Resolve the deepest existing ancestor, so a symlinked directory is judged by where it leads.
  for (let probe = lexical, rest: string[] = []; ;) {
    try {
      real = path.join(await realpath(probe), ...rest.reverse());
      break;
    } catch {
      if ((await lstat(probe).catch(() => null))?.isSymbolicLink()) break; // dangling link: the file tool refuses it
      const parent = path.dirname(probe);
      if (parent === probe) break;
      rest.push(path.basename(probe));
      probe = parent;
    }
  }
  return { lexical, real };
}
