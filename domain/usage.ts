/**
 * Model usage, counted honestly. With prompt caching on, the API's `input_tokens` is only the
 * uncached part of a request: cache writes and cache reads come in their own fields. Every budget
 * counts processed tokens (all four), and cost comes from the model's price table (computed where
 * the call is made; workflows only add it up). Workflow-safe: pure functions, JSON-safe shapes.
 */

/** One model call's usage as an activity reports it. */
export interface ModelUsage {
  inputTokens: number;
  outputTokens: number;
  /** Tokens written to the prompt cache (billed at 1.25× input for the 5-minute cache). */
  cacheCreationInputTokens?: number;
  /** Tokens read from the prompt cache (billed at 0.1× input). */
  cacheReadInputTokens?: number;
  /** USD, from the model's price table; absent when the model has no known price. */
  costUsd?: number;
}

/** A task's running total. The cache fields and cost are absent in results recorded before they were counted. */
export interface TokenUsage {
  /** Uncached input tokens. */
  input: number;
  output: number;
  cacheWrite?: number;
  cacheRead?: number;
  costUsd?: number;
}

export function emptyUsage(): TokenUsage {
  return { input: 0, output: 0, cacheWrite: 0, cacheRead: 0, costUsd: 0 };
}

/** Adds one call's usage to a total (mutates it, as workflow state does) and returns the total. */
export function addModelUsage(total: TokenUsage, usage: ModelUsage): TokenUsage {
  total.input += usage.inputTokens;
  total.output += usage.outputTokens;
  total.cacheWrite = (total.cacheWrite ?? 0) + (usage.cacheCreationInputTokens ?? 0);
  total.cacheRead = (total.cacheRead ?? 0) + (usage.cacheReadInputTokens ?? 0);
  total.costUsd = roundUsd((total.costUsd ?? 0) + (usage.costUsd ?? 0));
  return total;
}

/** The sum of two totals (a team and its children). */
export function sumUsage(a: TokenUsage, b: TokenUsage | undefined): TokenUsage {
  if (!b) return { ...a };
  return {
    input: a.input + b.input,
    output: a.output + b.output,
    cacheWrite: (a.cacheWrite ?? 0) + (b.cacheWrite ?? 0),
    cacheRead: (a.cacheRead ?? 0) + (b.cacheRead ?? 0),
    costUsd: roundUsd((a.costUsd ?? 0) + (b.costUsd ?? 0)),
  };
}

/** Every token the model processed: what token budgets count (cached tokens are still tokens). */
export function processedTokens(usage: TokenUsage | undefined): number {
  if (!usage) return 0;
  return usage.input + usage.output + (usage.cacheWrite ?? 0) + (usage.cacheRead ?? 0);
}

/** All input the model read for a total: uncached + cache writes + cache reads. */
export function inputTokens(usage: TokenUsage): number {
  return usage.input + (usage.cacheWrite ?? 0) + (usage.cacheRead ?? 0);
}

/** Rounds to a millionth of a dollar so sums stay readable and deterministic. */
export function roundUsd(usd: number): number {
  return Math.round(usd * 1e6) / 1e6;
}

/**
 * 1234567 → "1,234,567" (rounded to a whole number). What toLocaleString('en-US') prints for a count,
 * without building an Intl formatter on every call: the workflow sandbox renders these on every stage.
 */
export function groupThousands(x: number): string {
  const digits = String(Math.round(Math.abs(x)));
  return `${x < 0 ? '-' : ''}${digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}`;
}

/** One line for people: `41,210 tokens (input 1,200 · cache write 3,000 · cache read 36,000 · output 1,010) · $0.0421`. */
export function formatUsage(usage: TokenUsage | undefined): string {
  if (!usage) return '0 tokens';
  const n = (x: number | undefined) => groupThousands(x ?? 0);
  const parts = [`input ${n(usage.input)}`];
  if (usage.cacheWrite || usage.cacheRead) parts.push(`cache write ${n(usage.cacheWrite)}`, `cache read ${n(usage.cacheRead)}`);
  parts.push(`output ${n(usage.output)}`);
  const cost = usage.costUsd !== undefined ? ` · $${usage.costUsd.toFixed(usage.costUsd < 1 ? 4 : 2)}` : '';
  return `${n(processedTokens(usage))} tokens (${parts.join(' · ')})${cost}`;
}
