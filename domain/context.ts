/**
 * The model's context as the workflow tracks it between turns: small, JSON-safe, and the only input
 * besides the transcript that decides what a request contains, so a retried or replayed turn sends
 * exactly the same bytes (and hits the prompt cache).
 *
 * Client-side context management (it also works against gateways and local servers without
 * server-side context editing): old tool results are cleared in batches, the transcript is compacted
 * into a summary near the window, and an overflow compacts and retries.
 */

export interface ContextState {
  /** Tool results in messages before this index (of the current transcript) are shown as one-line stubs. */
  clearedBefore: number;
  /** All input tokens (uncached + cache write + cache read) of the last request, and what we estimated for it. */
  lastInputTokens: number;
  lastEstimate: number;
  /** The model's context window in tokens (0 until the first call reports it). */
  window: number;
  compactions: number;
  /** Assistant messages compactions replaced with a summary: with those in the transcript, the model's answers so far. */
  summarizedAssistants?: number;
  /** The output budget for the next call, raised after a tool call was cut off at max_tokens. */
  maxTokens?: number;
}

export function initialContext(): ContextState {
  return { clearedBefore: 0, lastInputTokens: 0, lastEstimate: 0, window: 0, compactions: 0 };
}

/**
 * What one execute turn came to:
 * - `tools`: run the tool calls, answer each;
 * - `final`: the model answered without tools;
 * - `continue`: call again without tool results (text cut at max_tokens, a pause_turn, a tool call
 *   cut off and dropped, or retried with a larger output budget);
 * - `refused`: the model declined (stop_reason refusal);
 * - `compact`: the next request would not fit (estimate, 400 "prompt is too long", or
 *   model_context_window_exceeded): compact, then call again.
 */
export type StepOutcome = 'tools' | 'final' | 'continue' | 'refused' | 'compact';

/** One tool call as the gate saw it: what the verifier, the answer and the memory writer read instead of a transcript tail. */
export interface LedgerEntry {
  turn: number;
  tool: string;
  /** The call in one line (`write_file src/a.ts`). */
  call: string;
  /** ran: `ok` / `error` / `outcome-unknown`; did not run: `denied` (policy), `not-approved` (a person or the timeout), `invalid`. */
  status: 'ok' | 'error' | 'outcome-unknown' | 'denied' | 'not-approved' | 'invalid';
  /** How it was decided: the policy's decision, and who approved it when a person did. */
  decision: string;
  /** The head of the output (or the reason it did not run). */
  preview: string;
  /** The whole output in the state store (read_output pages it), when it was stored. */
  outputRef?: string;
  bytes?: number;
  /** An MCP tool that is not read-only: a successful call counts as a change, like a write or a command. */
  changes?: boolean;
}
