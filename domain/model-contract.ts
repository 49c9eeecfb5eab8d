/**
 * What the workflows and the model activities hand each other: the inputs and results of the
 * execute and compaction turns. Plain JSON-safe shapes, so the workflow sandbox can hold them and a
 * replayed turn carries exactly what the recorded one did. The model service (services/llm)
 * implements them; workflows import them from here, never from services.
 */
import type { ContextState, StepOutcome } from './context';
import type { McpToolName } from './mcp';
import type { ToolName } from './tool-catalog';
import type { ModelUsage } from './usage';

/** The task as every model stage sees it. */
export interface TaskContext {
  taskId: string;
  prompt: string;
  workspace: string;
}

export interface ToolCall {
  id: string;
  name: string;
  input: Record<string, unknown>;
  /** Set when the arguments were too large to carry through workflow history: their size; `input` then holds only the path, and the call is not run. */
  oversizedBytes?: number;
}

/** A tool's answer as the workflow holds it: small content inline, larger content by reference. */
export interface ToolResultForModel {
  toolUseId: string;
  isError: boolean;
  content?: string;
  contentRef?: string;
  /** The whole output in the state store (read_output pages it; clearing leaves a stub naming it). */
  outputRef?: string;
  /** Size of the whole output. */
  bytes?: number;
  /** What PostToolUse hooks told the model about this result; it follows the content. */
  hookNote?: string;
}

export interface ExecuteStepInput {
  taskId: string;
  tools: (ToolName | McpToolName)[];
  /** The task's MCP catalog (descriptions and schemas of the MCP tools among `tools`), by ref. */
  mcpCatalogRef?: string;
  /** Transcript head; null on the first turn, which must then carry `start`. */
  head: string | null;
  /** First turn only: stored in the transcript's root, so later turns send none of it again. */
  start?: TaskContext & { goal: string; planSteps: string[]; memory?: string; /** The project's instruction files, as one block. */ instructions?: string };
  /** Answers to every tool_use of the previous turn (none may be left unanswered). */
  toolResults: ToolResultForModel[];
  /** After a final answer that a Stop hook blocked: the hook's reason, sent as the user's next message. */
  followUp?: string;
  /** The execute turn (1-based); absent in histories recorded before context management. */
  turn?: number;
  /** What the workflow knows about the context; absent in histories recorded before context management. */
  context?: ContextState;
}

export interface ExecuteStepResult {
  head: string;
  text: string;
  toolCalls: ToolCall[];
  stopReason: string | null;
  usage: ModelUsage;
  /** Absent in histories recorded before context management (then: tools when there are calls, else final). */
  outcome?: StepOutcome;
  context?: ContextState;
  /** One line for the trace when the turn did something about the context or a stop reason. */
  note?: string;
}

export interface CompactInput {
  taskId: string;
  head: string;
  context: ContextState;
  turn: number;
}

export interface CompactResult {
  head: string;
  summary: string;
  usage: ModelUsage;
  context: ContextState;
  /** Estimated tokens of the transcript before and after. */
  before: number;
  after: number;
}
