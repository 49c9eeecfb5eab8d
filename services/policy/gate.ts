/**
 * The one gate every tool call passes before it may run: argument validation, tool routing and
 * the evaluation chain, plus the action hash an approval is bound to and the rules an "always"
 * answer would add. Nothing here executes.
 *
 * A call's target is resolved once (one shell analysis for a command) and that one resolution
 * serves the decision, the network grant and the "always" rules, so they cannot disagree.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { canonicalJson } from '../../domain/canonical-json';
import { isMcpToolName, type McpToolEntry, type McpToolTarget } from '../../domain/mcp';
import type { Mode, PolicyVerdict, RuleRecord } from '../../domain/policy';
import type { ActionPreview } from '../../domain/task';
import { TOOL_SPECS, isToolName, type ToolName } from '../../domain/tool-catalog';
import { detectSandbox } from '../sandbox/bubblewrap';
import { actionPreview } from '../tools/action-preview';
import { ToolInputError, workspaceRoot } from '../tools/workspace';
import { evaluate, type PolicyContext } from './evaluate';
import { hostsNamedIn, networkGrant } from './network-policy';
import { parseRule } from './rules';
import type { ShellAnalysis } from './shell/analysis';
import { resolveTarget, type PolicyTarget } from './target';

export interface GateRequest {
  tool: string;
  input: unknown;
  workspace: string;
  /** The catalog's tools and the MCP tools (by namespaced name) routing offered this task. */
  offeredTools: string[];
  mode: Mode;
  /** Every rule in force for this task: the snapshot taken at start plus session rules. */
  rules: RuleRecord[];
  /** The task's MCP catalog, stored when it prepared; the activity reads it from its ref. */
  mcpCatalogRef?: string;
}

/** The gate's request with the task's MCP catalog read from the state store. */
export type ResolvedGateRequest = Omit<GateRequest, 'mcpCatalogRef'> & { mcpTools?: readonly McpToolEntry[] };

export type GateResult =
  | { kind: 'invalid'; message: string }
  | {
      kind: 'decided';
      /** A catalog tool, or an MCP tool's namespaced name (then `mcp` says where it runs). */
      tool: string;
      input: Record<string, unknown>;
      mcp?: McpToolTarget;
      verdict: PolicyVerdict;
      actionHash: string;
      /** What an "always" answer to this call would allow from now on (empty: nothing expressible). */
      grantRules: RuleRecord[];
      /** For a file write that asks: the change as a diff, for the person deciding. */
      preview?: ActionPreview;
    };

/** sha256 over tool, canonical arguments and the workspace's real path: any change needs a new approval. */
export function actionHash(tool: string, input: unknown, workspace: string): string {
  return createHash('sha256')
    .update(`${tool}\n${canonicalJson(input)}\n${workspace}`)
    .digest('hex');
}

/**
 * "Always" becomes a scoped rule, as the tool catalog says for the tool: the exact words of each
 * simple command (a prefix rule), or the directory of an edited file. A call whose words cannot be
 * written as a rule grants nothing.
 */
function grantRulesFor(tool: ToolName, input: Record<string, unknown>, target: PolicyTarget, root: string): RuleRecord[] {
  switch (TOOL_SPECS[tool].always) {
    case 'command-prefix':
      return target.kind === 'command' ? commandPrefixRules(tool, target.analysis) : [];
    case 'directory':
      return typeof input.path === 'string' ? directoryRules(tool, input.path, root) : [];
    case 'none':
      return [];
  }
}

function commandPrefixRules(tool: ToolName, analysis: ShellAnalysis): RuleRecord[] {
  if (!analysis.parsed || analysis.askReasons.length || analysis.parts.some((p) => p.dynamic || p.argv.some((w) => /[\s()*]/.test(w) || w === ''))) return [];
  return [...new Set(analysis.parts.map((p) => p.argv.join(' ')))].map((words) => parseRule(`allow ${tool}(${words})`, 'session'));
}

function directoryRules(tool: ToolName, requested: string, root: string): RuleRecord[] {
  const rel = path.relative(root, path.resolve(root, requested));
  if (rel.startsWith('..') || /[()*\s]/.test(rel)) return [];
  const dir = path.dirname(rel);
  // `./*` (top-level files only), not `*`, which a rule reads as "every call of the tool".
  return [parseRule(`allow ${tool}(${dir === '.' ? './*' : `${dir}/**`})`, 'session')];
}

/** What the chain judges a call in: the workspace's real path (a missing one is an invalid call), the mode, the rules, the sandbox. */
async function policyContext(request: ResolvedGateRequest): Promise<PolicyContext | Extract<GateResult, { kind: 'invalid' }>> {
  let root: string;
  try {
    root = await workspaceRoot(request.workspace);
  } catch (err) {
    if (err instanceof ToolInputError) return { kind: 'invalid', message: err.message };
    throw err;
  }
  return { workspace: root, mode: request.mode, rules: request.rules, sandboxAvailable: (await detectSandbox()).available };
}

/** Never throws for bad model input: an invalid call comes back as { kind: 'invalid' } for the model to see. */
export async function gateToolCall(request: ResolvedGateRequest): Promise<GateResult> {
  if (isMcpToolName(request.tool)) return await gateMcpCall(request);
  if (!isToolName(request.tool)) return { kind: 'invalid', message: `unknown tool "${request.tool}"` };
  if (!request.offeredTools.includes(request.tool)) {
    return { kind: 'invalid', message: `tool "${request.tool}" is not available for this task (offered: ${request.offeredTools.join(', ')})` };
  }
  const parsed = TOOL_SPECS[request.tool].input.safeParse(request.input);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(input)'}: ${i.message}`).join('; ');
    return { kind: 'invalid', message: `invalid arguments for ${request.tool}: ${issues}` };
  }
  const ctx = await policyContext(request);
  if ('kind' in ctx) return ctx;
  const root = ctx.workspace;
  const input = parsed.data as Record<string, unknown>;
  const target = await resolveTarget(request.tool, input, ctx);
  const decided = evaluate(request.tool, target, ctx);
  let verdict = decided;
  if (decided.allowNetwork && target.kind === 'command') {
    // The domains a network command's sandbox may reach: the network rules plus the hosts the command names.
    const network = networkGrant(request.rules, hostsNamedIn(target.analysis.parts.flatMap((p) => p.argv)));
    const where = network.allow.length ? network.allow.join(', ') : 'no domain (no `allow network(...)` rule applies)';
    verdict = {
      ...decided,
      network,
      reasons: [...decided.reasons, `network only through the sandbox proxy, to: ${where}; loopback, private addresses and the agent's own services are always refused`],
    };
  }
  const preview = verdict.decision === 'ask' ? await actionPreview(root, request.tool, input) : null;
  return {
    kind: 'decided',
    tool: request.tool,
    input,
    verdict,
    actionHash: actionHash(request.tool, input, root),
    grantRules: verdict.decision === 'ask' ? grantRulesFor(request.tool, input, target, root) : [],
    ...(preview ? { preview } : {}),
  };
}

/**
 * An MCP tool's call: offered to this task, arguments an object within the size a call may carry,
 * judged by the chain with the risk its annotations gave when the task prepared. The server checks
 * the arguments against its own schema. "Always" allows the tool itself for the workspace.
 */
async function gateMcpCall(request: ResolvedGateRequest): Promise<GateResult> {
  const entry = request.mcpTools?.find((t) => t.name === request.tool);
  if (!entry || !request.offeredTools.includes(request.tool)) {
    return { kind: 'invalid', message: `tool "${request.tool}" is not available for this task (offered: ${request.offeredTools.join(', ')})` };
  }
  if (typeof request.input !== 'object' || request.input === null || Array.isArray(request.input)) {
    return { kind: 'invalid', message: `invalid arguments for ${request.tool}: the arguments must be an object` };
  }
  const ctx = await policyContext(request);
  if ('kind' in ctx) return ctx;
  const root = ctx.workspace;
  const input = request.input as Record<string, unknown>;
  const verdict = evaluate(entry.name, { kind: 'mcp', entry }, ctx);
  const { server, tool, readOnly, idempotent, timeoutSeconds } = entry;
  return {
    kind: 'decided',
    tool: entry.name,
    input,
    mcp: { server, tool, readOnly, idempotent, timeoutSeconds },
    verdict,
    actionHash: actionHash(entry.name, input, root),
    grantRules: verdict.decision === 'ask' ? [parseRule(`allow ${entry.name}`, 'session')] : [],
  };
}
