/**
 * What one tool implementation receives and what it must provide. Implementations are plain Node
 * functions registered in tool-implementations.ts; the runner owns exactly-once, timeouts and
 * output bounds around them, so an implementation only does its one job.
 */
import type { z } from 'zod';
import type { McpToolName, McpToolTarget } from '../../domain/mcp';
import type { TOOL_SPECS, ToolName } from '../../domain/tool-catalog';
import type { McpHub } from '../mcp/mcp-hub';
import type { MemoryService } from '../memory/memory-service';
import type { NetworkGrant } from '../sandbox/network-proxy';
import type { StateStore } from '../state/state-store';
import type { BackgroundJobs } from './background-jobs';

export interface ToolRunRequest {
  /** Unique per call across retries and workers (workflow id + tool_use id). */
  effectKey: string;
  /** The task (workflow id) the call belongs to: background jobs are visible to their own task only. */
  taskId: string;
  /** Who submitted the task: the owner of `user`-scoped memories. */
  user?: string;
  tool: ToolName | McpToolName;
  input: Record<string, unknown>;
  workspace: string;
  /** An MCP tool: its server, its own name and what the gate read from its annotations. */
  mcp?: McpToolTarget;
  /** run_command: the domains the sandbox may reach through its proxy (the policy judged the command to need network); absent: none. */
  network?: NetworkGrant | null;
  /** run_command: refuse to run without the OS sandbox (it was allowed without a human because it would be sandboxed). */
  requireSandbox?: boolean;
}

/** The arguments of a tool after its catalog schema parsed them (defaults filled in). */
export type ToolInput<K extends ToolName> = z.output<(typeof TOOL_SPECS)[K]['input']>;

/** The worker's shared pieces an implementation may use. */
export interface ToolServices {
  store: StateStore;
  jobs: BackgroundJobs;
  /** The memory layer, for remember / forget; absent when memory is off. */
  memory?: () => Promise<MemoryService>;
  /** What the model sees of one output, in bytes (read_output pages fit inside it). */
  modelOutputLimit: number;
  /** What every sandbox hides (the agent's own state) and what its network proxy always refuses (the orchestrator). */
  sandbox?: { hidden: string[]; refuse: string[] };
  /** The worker's MCP clients; absent when the worker has none. */
  mcp?: McpHub;
}

export interface ToolCall<K extends ToolName> {
  input: ToolInput<K>;
  request: ToolRunRequest;
  /** Fires at the tool's deadline or on cancellation: stop walking or waiting. */
  signal: AbortSignal;
  services: ToolServices;
}

export interface ToolImplementation<K extends ToolName> {
  /** The text the model sees. Throws ToolInputError (or a user-facing fs error) for a call the model got wrong. */
  run(call: ToolCall<K>): Promise<string>;
  /** A call that bounds its own run time (a foreground command's timeoutSeconds) gets that long instead, when longer. */
  ownTimeoutSeconds?(input: ToolInput<K>): number;
}

/** Every tool of the catalog has exactly one implementation: the compiler checks the record is complete. */
export type ToolImplementations = { readonly [K in ToolName]: ToolImplementation<K> };
