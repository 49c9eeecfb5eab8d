/**
 * The one gate every tool call passes before it may run: argument validation, tool routing and
 * the permission engine, plus the action hash an approval is bound to and the rules an "always"
 * answer would add. Nothing here executes.
 */
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { canonicalJson } from '../../domain/canonical-json';
import type { Mode, PolicyVerdict, RuleRecord } from '../../domain/policy';
import { TOOL_SPECS, isToolName, type ToolName } from '../../domain/tool-catalog';
import { decide } from '../policy/engine';
import { hostsNamedIn, networkGrant } from '../policy/network-policy';
import { parseRule } from '../policy/rules';
import { analyzeShell } from '../policy/shell-analyzer';
import { detectSandbox } from '../sandbox/bubblewrap';
import type { ActionPreview } from '../../domain/task';
import { actionPreview } from './action-preview';
import { ToolInputError, workspaceRoot } from './workspace';

export interface GateRequest {
  tool: string;
  input: unknown;
  workspace: string;
  offeredTools: ToolName[];
  mode: Mode;
  /** Every rule in force for this task: the snapshot taken at start plus session rules. */
  rules: RuleRecord[];
}

export type GateResult =
  | { kind: 'invalid'; message: string }
  | {
      kind: 'decided';
      tool: ToolName;
      input: Record<string, unknown>;
      verdict: PolicyVerdict;
      actionHash: string;
      /** What an "always" answer to this call would allow from now on (empty: nothing expressible). */
      grantRules: RuleRecord[];
      /** For a file write that asks: the change as a diff, for the person deciding. */
      preview?: ActionPreview;
    };

/** sha256 over tool, canonical arguments and the workspace's real path: any change needs a new approval. */
export function actionHash(tool: string, input: unknown, workspace: string): string {
  return createHash('sha256').update(`${tool}\n${canonicalJson(input)}\n${workspace}`).digest('hex');
}

/**
 * "Always" becomes a scoped rule: the exact words of each simple command (a prefix rule), or the
 * directory of an edited file. A command whose words cannot be written as a rule grants nothing.
 */
async function grantRulesFor(tool: ToolName, input: Record<string, unknown>, root: string): Promise<RuleRecord[]> {
  if (tool === 'run_command') {
    const analysis = await analyzeShell(String(input.command), { workspace: root, home: os.homedir() });
    if (!analysis.parsed || analysis.askReasons.length || analysis.parts.some((p) => p.dynamic || p.argv.some((w) => /[\s()*]/.test(w) || w === ''))) return [];
    return [...new Set(analysis.parts.map((p) => p.argv.join(' ')))].map((words) => parseRule(`allow run_command(${words})`, 'session'));
  }
  if (TOOL_SPECS[tool].writes && typeof input.path === 'string') {
    const rel = path.relative(root, path.resolve(root, input.path));
    if (rel.startsWith('..') || /[()*\s]/.test(rel)) return [];
    const dir = path.dirname(rel);
    // `./*` (top-level files only), not `*`, which a rule reads as "every call of the tool".
    return [parseRule(`allow ${tool}(${dir === '.' ? './*' : `${dir}/**`})`, 'session')];
  }
  return [];
}

/** The domains a network command's sandbox may reach: the network rules plus the hosts the command names. */
async function commandNetwork(command: string, root: string, rules: RuleRecord[]) {
  const analysis = await analyzeShell(command, { workspace: root, home: os.homedir() });
  return networkGrant(rules, hostsNamedIn(analysis.parts.flatMap((p) => p.argv)));
}

/** Never throws for bad model input: an invalid call comes back as { kind: 'invalid' } for the model to see. */
export async function gateToolCall(request: GateRequest): Promise<GateResult> {
  if (!isToolName(request.tool)) return { kind: 'invalid', message: `unknown tool "${request.tool}"` };
  if (!request.offeredTools.includes(request.tool)) {
    return { kind: 'invalid', message: `tool "${request.tool}" is not available for this task (offered: ${request.offeredTools.join(', ')})` };
  }
  const parsed = TOOL_SPECS[request.tool].input.safeParse(request.input);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(input)'}: ${i.message}`).join('; ');
    return { kind: 'invalid', message: `invalid arguments for ${request.tool}: ${issues}` };
  }
  let root: string;
  try {
    root = await workspaceRoot(request.workspace);
  } catch (err) {
    if (err instanceof ToolInputError) return { kind: 'invalid', message: err.message };
    throw err;
  }
  const input = parsed.data as Record<string, unknown>;
  const sandbox = await detectSandbox();
  const decided = await decide(request.tool, input, { workspace: root, mode: request.mode, rules: request.rules, sandboxAvailable: sandbox.available });
  let verdict = decided;
  if (decided.allowNetwork && request.tool === 'run_command') {
    const network = await commandNetwork(String(input.command), root, request.rules);
    const where = network.allow.length ? network.allow.join(', ') : 'no domain (no `allow network(...)` rule applies)';
    verdict = { ...decided, network, reasons: [...decided.reasons, `network only through the sandbox proxy, to: ${where}; loopback, private addresses and the agent's own services are always refused`] };
  }
  const preview = verdict.decision === 'ask' ? await actionPreview(root, request.tool, input) : null;
  return {
    kind: 'decided',
    tool: request.tool,
    input,
    verdict,
    actionHash: actionHash(request.tool, input, root),
    grantRules: verdict.decision === 'ask' ? await grantRulesFor(request.tool, input, root) : [],
    ...(preview ? { preview } : {}),
  };
}
