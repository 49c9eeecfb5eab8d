/**
 * Tools from MCP servers, as the workflow, the policy and the model see them. A server's tools are
 * discovered on the worker when a task prepares; the whole catalog (descriptions, schemas) is
 * stored once and passed by reference, and the workflow holds only the names it offers. Every
 * name is namespaced `mcp__<server>__<tool>`, so a server cannot shadow a built-in tool, and a rule
 * such as `ask mcp__github__*` covers a server's tools by name.
 */
import type { RiskClass, ToolName } from './tool-catalog';

export type McpToolName = `mcp__${string}`;

/** A tool a task may be offered: one of the catalog's or an MCP server's. */
export type OfferedTool = ToolName | McpToolName;

/** A server's name as configured: letters, digits and `-` (no `_`, so `mcp__<server>__<tool>` splits one way). */
export const MCP_SERVER_NAME = /^[A-Za-z0-9][A-Za-z0-9-]{0,31}$/;

/** A namespaced tool name as the Messages API accepts it (at most 64 of `[A-Za-z0-9_-]`). */
const MCP_TOOL_NAME = /^mcp__[A-Za-z0-9][A-Za-z0-9-]{0,31}__[A-Za-z0-9_-]+$/;

export function isMcpToolName(name: string): name is McpToolName {
  return name.length <= 64 && MCP_TOOL_NAME.test(name);
}

/** The server part of a namespaced name; null for a name that is not one. */
export function mcpServerOf(name: string): string | null {
  return isMcpToolName(name) ? name.slice(5, name.indexOf('__', 5)) : null;
}

/**
 * What the policy and the runner need of one MCP tool, fixed when the task prepared: its risk and
 * whether a retry may run it again come from the server's annotations, read once.
 */
export interface McpToolTarget {
  server: string;
  /** The tool's own name on its server. */
  tool: string;
  readOnly: boolean;
  /** Safe to run again after a crash: read-only or declared idempotent. Otherwise the effect journal answers a retry. */
  idempotent: boolean;
  timeoutSeconds: number;
}

/** One MCP tool in a task's catalog. */
export interface McpToolEntry extends McpToolTarget {
  name: McpToolName;
  /** As shown to the model: capped, control characters removed, and labelled with its server. */
  description: string;
  /** The server's JSON Schema for the arguments (an object schema). */
  inputSchema: Record<string, unknown>;
  risk: RiskClass;
  /** The annotations as a person reads them in a decision, e.g. "read-only" or "no annotations". */
  hints: string;
}

/** The tool hints of the MCP specification; every one is optional and only a hint. */
export interface McpAnnotations {
  readOnlyHint?: boolean;
  destructiveHint?: boolean;
  idempotentHint?: boolean;
  openWorldHint?: boolean;
}

/**
 * Risk from the annotations where the server gives them: read-only tools are reads; anything else is
 * destructive when the server says so and unknown otherwise, and asks unless a rule allows it.
 */
export function mcpRisk(a: McpAnnotations | undefined): { risk: RiskClass; readOnly: boolean; idempotent: boolean; hints: string } {
  if (a?.readOnlyHint === true) return { risk: 'read-only', readOnly: true, idempotent: true, hints: 'read-only' };
  const idempotent = a?.idempotentHint === true;
  const said = [a?.destructiveHint === true ? 'destructive' : a?.destructiveHint === false ? 'not destructive' : null, idempotent ? 'idempotent' : null].filter(Boolean);
  return {
    risk: a?.destructiveHint === true ? 'destructive' : 'unknown',
    readOnly: false,
    idempotent,
    hints: said.length ? said.join(', ') : a ? 'not read-only' : 'no annotations',
  };
}
