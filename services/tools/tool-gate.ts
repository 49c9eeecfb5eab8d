/**
 * The one gate every tool call passes before it may run: argument validation, tool routing and
 * the permission policy, plus the action hash an approval is bound to. Nothing here executes.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../../domain/canonical-json';
import { decideToolCall, type PolicyVerdict } from '../../domain/policy';
import type { SessionGrant } from '../../domain/task';
import { isToolName, TOOL_SPECS, type ToolName } from '../../domain/tool-catalog';
import { ToolInputError, workspaceRoot } from './workspace';

export interface GateRequest {
  tool: string;
  input: unknown;
  workspace: string;
  offeredTools: ToolName[];
  grants: SessionGrant[];
}

export type GateResult =
  | { kind: 'invalid'; message: string }
  | { kind: 'decided'; tool: ToolName; input: Record<string, unknown>; verdict: PolicyVerdict; actionHash: string };

/** sha256 over tool, canonical arguments and the workspace's real path: any change needs a new approval. */
export function actionHash(tool: string, input: unknown, workspace: string): string {
  return createHash('sha256').update(`${tool}\n${canonicalJson(input)}\n${workspace}`).digest('hex');
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
  return {
    kind: 'decided',
    tool: request.tool,
    input,
    verdict: decideToolCall(request.tool, input, request.grants),
    actionHash: actionHash(request.tool, input, root),
  };
}
