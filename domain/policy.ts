/**
 * The minimal permission policy: reads run, writes and shell commands ask, and an "always" answer
 * becomes a session grant. Pure and deterministic so the same call always gets the same verdict;
 * the full rule engine (issue 3) replaces the body of `decideToolCall`, never its callers.
 */
import type { RiskClass, ToolName } from './tool-catalog';
import { TOOL_SPECS } from './tool-catalog';
import type { SessionGrant } from './task';

export type Decision = 'allow' | 'ask' | 'deny';

export interface PolicyVerdict {
  decision: Decision;
  risk: RiskClass;
  reasons: string[];
  matchedRule: string | null;
}

/** The scope an "always" answer grants for this call: the exact command, or any write in the workspace. */
export function grantScopeFor(tool: ToolName, input: Record<string, unknown>): string {
  return tool === 'run_command' ? String(input.command ?? '') : '*';
}

export function decideToolCall(
  tool: ToolName,
  input: Record<string, unknown>,
  grants: readonly SessionGrant[],
): PolicyVerdict {
  const spec = TOOL_SPECS[tool];
  if (!spec.writes) {
    return { decision: 'allow', risk: spec.risk, reasons: [`${tool} only reads inside the workspace`], matchedRule: 'default: reads allowed' };
  }
  const scope = grantScopeFor(tool, input);
  const grant = grants.find((g) => g.tool === tool && (g.scope === '*' || g.scope === scope));
  if (grant) {
    return {
      decision: 'allow',
      risk: spec.risk,
      reasons: [`approved "always" earlier in this task`],
      matchedRule: `session: ${tool}(${grant.scope})`,
    };
  }
  const reasons =
    tool === 'run_command'
      ? ['shell commands can change anything the workspace user can; this one has not been analysed']
      : [`${tool} changes files in the workspace`];
  return { decision: 'ask', risk: spec.risk, reasons, matchedRule: 'default: writes and shell ask' };
}
