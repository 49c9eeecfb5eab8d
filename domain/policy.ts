/**
 * Policy vocabulary shared by the workflow, the gate and the CLI: modes, decisions, and rules in
 * the JSON-safe shape a workflow can hold. The engine that evaluates them lives in services/policy.
 */
import type { RiskClass } from './tool-catalog';

/**
 * default: reads (and shell commands proven read-only) run; writes and other commands ask.
 * accept-edits: file edits inside the workspace run too. plan: read-only, no side effects at all.
 * dont-ask: anything that would ask is denied (unattended agents). bypass: everything not denied
 * runs — refused unless the worker has an OS sandbox.
 */
export const MODES = ['default', 'accept-edits', 'plan', 'dont-ask', 'bypass'] as const;
export type Mode = (typeof MODES)[number];

export type Decision = 'allow' | 'ask' | 'deny';

export const RULE_SOURCES = ['builtin', 'user', 'workspace', 'task', 'session'] as const;
export type RuleSource = (typeof RULE_SOURCES)[number];

export interface RuleRecord {
  effect: Decision;
  tool: string;
  /** null: every call of the tool. */
  specifier: string | null;
  source: RuleSource;
  /** The rule as written, e.g. `allow run_command(npm run test *)`. */
  text: string;
}

export interface PolicyVerdict {
  decision: Decision;
  risk: RiskClass;
  reasons: string[];
  matchedRule: string | null;
  /** run_command only: whether the sandbox lets the command reach the network. */
  allowNetwork?: boolean;
  /** run_command with network: the domains its sandbox proxy will let it reach (shown when a person is asked). */
  network?: NetworkGrant;
}

/**
 * What one sandboxed command may reach through the proxy. Patterns: `example.com` (exactly),
 * `*.example.com` (any subdomain), `*` (any public host). Loopback, private ranges and the agent's
 * own services are refused whatever a pattern says.
 */
export interface NetworkGrant {
  allow: string[];
  deny: string[];
}
